// Hostile strings for unit names, paths, args and env values: quotes, separators, substitutions,
// globs, newlines and option-looking words. Each one that ran would create `canary`.

export function hostileWords(canary: string): string[] {
  const touch = `touch ${canary}`;
  const base = [
    `; ${touch}`,
    `&& ${touch}`,
    `| ${touch}`,
    `$(${touch})`,
    `\`${touch}\``,
    `'; ${touch}; '`,
    `"; ${touch}; "`,
    `\n${touch}\n`,
    `\r\n${touch}`,
    `kubelet.service; ${touch}`,
    `kubelet$(${touch}).service`,
    `/etc/systemd/system/kubelet.service.d/$(${touch}).conf`,
    `--help`,
    `-rf`,
    `*`,
    `?`,
    `[a-z]*`,
    `~root`,
    `$HOME`,
    `\${HOME}`,
    `$((1+1))`,
    `!!`,
    `\\`,
    `'`,
    `"`,
    `''`,
    `a b\tc`,
    `#comment`,
    `a=b`,
    `>${canary}`,
    `<${canary}`,
    `2>${canary}`,
    `{a,b}`,
    `é ü 中文`,
    ` leading and trailing `,
    `$'\\x41'`,
    `\${IFS}`,
    `%n %i %%`,
  ];
  const words = [...base];
  // Combinations, so quoting state carried from one char to the next is exercised too.
  for (const a of [`'`, `"`, `\\`, `$`, '`']) {
    for (const b of [`(${touch})`, `{${touch}}`, ` ${touch}`, `\n${touch}`]) {
      words.push(a + b);
    }
  }
  return words;
}
