// Inside the extension host: what the workbench shows, read (and clicked) through the shim's UI
// probe (test/vscode/lib/uiProbe.mjs), so tests check the real status bar and notifications.

export interface StatusBarEntry {
  id: string;
  text: string;
  label: string;
  visible: boolean;
}

export interface ShownNotification {
  message: string;
  buttons: string[];
}

async function probe<T>(route: string, params: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const base = process.env.KRD_UI_PROBE;
  if (!base) {
    throw new Error('KRD_UI_PROBE is not set; run the suite through test/vscode/code-shim (runWithNode.mjs or runIntegration.mjs).');
  }
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${base}/${route}${query ? `?${query}` : ''}`, { signal: AbortSignal.timeout(20_000) });
  return { status: response.status, body: (await response.json()) as T };
}

export async function statusBarEntries(): Promise<StatusBarEntry[]> {
  const { status, body } = await probe<StatusBarEntry[] | { error: string }>('status-bar');
  if (status !== 200) {
    throw new Error(`UI probe: ${(body as { error: string }).error}`);
  }
  return body as StatusBarEntry[];
}

export async function notifications(): Promise<ShownNotification[]> {
  const { status, body } = await probe<ShownNotification[] | { error: string }>('notifications');
  if (status !== 200) {
    throw new Error(`UI probe: ${(body as { error: string }).error}`);
  }
  return body as ShownNotification[];
}

/** Clicks `button` on the one visible notification whose text contains `message`; false when there is none. */
export async function clickNotificationButton(message: string, button: string): Promise<boolean> {
  const { status, body } = await probe<{ clicked?: boolean; error?: string }>('notifications/click', { message, button });
  if (status === 404) {
    return false;
  }
  if (status !== 200) {
    throw new Error(`UI probe: ${body.error}`);
  }
  return body.clicked === true;
}

/** The input box (quick input) as a person sees it. */
export type ShownInputBox =
  { visible: false } | { visible: true; title: string; prompt: string; placeholder: string; password: boolean; focused: boolean };

export async function inputBox(): Promise<ShownInputBox> {
  const { status, body } = await probe<ShownInputBox | { error: string }>('quick-input');
  if (status !== 200) {
    throw new Error(`UI probe: ${(body as { error: string }).error}`);
  }
  return body as ShownInputBox;
}

/** Types `text` into the shown input box, key by key, and presses Enter. */
export async function answerInputBox(text: string): Promise<void> {
  const { status, body } = await probe<{ error?: string }>('quick-input/answer', { text });
  if (status !== 200) {
    throw new Error(`UI probe: ${body.error}`);
  }
}

/** Presses Escape in the shown input box. */
export async function cancelInputBox(): Promise<void> {
  const { status, body } = await probe<{ error?: string }>('quick-input/cancel');
  if (status !== 200) {
    throw new Error(`UI probe: ${body.error}`);
  }
}

export interface ShownTreeRow {
  label: string;
  description: string;
  /** 1 for the view's top rows. */
  level: number;
  /** "true" or "false" for a row that can expand, null for a leaf. */
  expanded: string | null;
}

/** The rows a view's tree renders. */
export async function treeRows(view: string): Promise<ShownTreeRow[]> {
  const { status, body } = await probe<ShownTreeRow[] | { error: string }>('tree/rows', { view });
  if (status !== 200) {
    throw new Error(`UI probe: ${(body as { error: string }).error}`);
  }
  return body as ShownTreeRow[];
}

/** Clicks the one row of a view's tree labelled `label`, as a person expands a node. */
export async function clickTreeRow(view: string, label: string): Promise<void> {
  const { status, body } = await probe<{ error?: string }>('tree/click', { view, label });
  if (status !== 200) {
    throw new Error(`UI probe: ${body.error}`);
  }
}
