// Hover and completion for systemd unit files, local and on nodes (kubelet-node:), as thin VS Code
// adapters over the directive table and cursor analysis in unitDirectives.ts.
import * as vscode from 'vscode';
import { NODE_FILE_SCHEME } from '../files/nodeUri';
import { completionContextAt, directivesFor, findDirective, findSection, nameAt, UNIT_SECTIONS, UnitDirective } from './unitDirectives';

const LANGUAGE = 'systemd-unit';

// Named schemes rather than any: unit files in other schemes (git diffs, output) stay plain.
export const UNIT_DOCUMENT_SELECTOR: vscode.DocumentSelector = [
  { language: LANGUAGE, scheme: 'file' },
  { language: LANGUAGE, scheme: 'untitled' },
  { language: LANGUAGE, scheme: NODE_FILE_SCHEME },
];

function sectionsLabel(directive: UnitDirective): string {
  return directive.sections.map((s) => `[${s}]`).join(', ');
}

export class UnitHoverProvider implements vscode.HoverProvider {
  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const found = nameAt(document.getText(), position);
    if (!found) {
      return undefined;
    }
    const range = new vscode.Range(position.line, found.start, position.line, found.end);
    if (found.kind === 'section') {
      const section = findSection(found.name);
      return section && new vscode.Hover(new vscode.MarkdownString(`**[${section.name}]** — ${section.description}`), range);
    }
    const directive = findDirective(found.name);
    if (!directive) {
      return undefined;
    }
    const md = new vscode.MarkdownString(`**${directive.name}** — ${sectionsLabel(directive)} ${directive.description}`);
    // systemd ignores a directive in the wrong section with only a log line, so say so here. Only for
    // the sections we describe: [Socket] or [Mount] accept many [Service] directives too.
    if (found.section && findSection(found.section) && !(directive.sections as readonly string[]).includes(found.section)) {
      md.appendMarkdown(`\n\n$(warning) ${vscode.l10n.t('Not valid in [{0}]; systemd ignores it there.', found.section)}`);
      md.supportThemeIcons = true;
    }
    return new vscode.Hover(md, range);
  }
}

export class UnitCompletionProvider implements vscode.CompletionItemProvider {
  provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] | undefined {
    const context = completionContextAt(document.getText(), position);
    if (!context) {
      return undefined;
    }
    const range = new vscode.Range(position.line, context.start, position.line, context.end);
    if (context.kind === 'section') {
      return UNIT_SECTIONS.map((section) => {
        const item = new vscode.CompletionItem(section.name, vscode.CompletionItemKind.Module);
        item.insertText = context.closed ? section.name : `${section.name}]`;
        item.documentation = new vscode.MarkdownString(section.description);
        item.range = range;
        return item;
      });
    }
    return directivesFor(context.section).map((directive) => {
      const item = new vscode.CompletionItem(directive.name, vscode.CompletionItemKind.Property);
      item.insertText = `${directive.name}=`;
      item.detail = sectionsLabel(directive);
      item.documentation = new vscode.MarkdownString(directive.description);
      item.range = range;
      return item;
    });
  }
}

export function registerUnitLanguageFeatures(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.languages.registerHoverProvider(UNIT_DOCUMENT_SELECTOR, new UnitHoverProvider()),
    vscode.languages.registerCompletionItemProvider(UNIT_DOCUMENT_SELECTOR, new UnitCompletionProvider(), '['),
  );
}
