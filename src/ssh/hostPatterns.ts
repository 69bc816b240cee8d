// OpenSSH host pattern lists ("*.k8s,!bastion.k8s"), shared by known_hosts and config lookups.

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** True when a positive pattern matches and no negated one does, as OpenSSH's match_hostname. */
export function matchesPatternList(name: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (pattern === '' || !patternToRegExp(pattern).test(name)) {
      continue;
    }
    if (negated) {
      return false;
    }
    matched = true;
  }
  return matched;
}

export function isLiteralHost(pattern: string): boolean {
  return !/[*?!]/.test(pattern);
}
