// Resolves a node name the way OpenSSH does: ~/.ssh/config (with Include), then /etc/ssh/ssh_config,
// first value wins. Also accepts plain user@host:port. Parsing is the `ssh-config` package's job.
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import SSHConfig from 'ssh-config';
import { errors } from '../common/errors';
import { isLiteralHost } from './hostPatterns';
import { resolveWithSsh, SshDirectives } from './opensshConfig';
import { needsUserOnlyCheck, OpensshOnlyDirective, opensshOnlyDirectives } from './transportChoice';

export interface ResolvedHost {
  /** What the user named: an alias or user@host:port. */
  alias: string;
  hostName: string;
  port: number;
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  /** Agent socket, or undefined when the agent is off. */
  identityAgent?: string;
  /** Hops in the order they are dialled, each resolved through the config in turn. */
  proxyJump: ResolvedHost[];
  /** ProxyCommand as written (tokens unexpanded); only the first hop's is used, as in OpenSSH. */
  proxyCommand?: string;
  knownHostsFiles: string[];
  hashKnownHosts: boolean;
  /** StrictHostKeyChecking=yes: never ask, unknown keys are refused. */
  strictHostKeyChecking: 'yes' | 'ask' | 'accept-new' | 'no';
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  connectTimeoutSeconds?: number;
  /** What the config asks for that only the system's OpenSSH does (certificates, GSSAPI, …). */
  opensshOnly: OpensshOnlyDirective[];
  /** How to name this host to the system's ssh, exactly as the user wrote it. */
  sshTarget: HostSpec;
}

export interface SshConfigSource {
  /** The user's config file, read on every lookup so a changed setting applies at once; ~/.ssh/config when empty. */
  userConfigFile?: string | (() => string | undefined);
  systemConfigFile?: string;
  homeDir?: string;
  localUser?: string;
  env?: NodeJS.ProcessEnv;
  /** The OpenSSH client that resolves hosts (`ssh -G`); false to use only our own parser. */
  sshBinary?: string | false;
}

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];
const MAX_INCLUDE_DEPTH = 16;
const MAX_JUMP_HOPS = 8;
/** A Match line with an exec criterion (`Match host x exec "test -f FLAG"`). */
const MATCH_EXEC = /^\s*match\b[^\n#]*\bexec\b/im;

export class SshConfigResolver {
  private readonly homeDir: string;
  private readonly localUser: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly configFileSetting: SshConfigSource['userConfigFile'];
  private readonly systemConfigFile: string;
  /** Set to false once ssh turns out to be missing, so later lookups skip straight to the parser. */
  private sshBinary: string | false;

  constructor(source: SshConfigSource = {}) {
    this.sshBinary = source.sshBinary ?? 'ssh';
    this.homeDir = source.homeDir ?? os.homedir();
    this.localUser = source.localUser ?? safeUserName();
    this.env = source.env ?? process.env;
    this.configFileSetting = source.userConfigFile;
    this.systemConfigFile = source.systemConfigFile ?? '/etc/ssh/ssh_config';
  }

  get userConfigFile(): string {
    const setting = typeof this.configFileSetting === 'function' ? this.configFileSetting() : this.configFileSetting;
    return setting ? this.expandHome(setting) : path.join(this.homeDir, '.ssh', 'config');
  }

  private expandHome(file: string): string {
    return file === '~' || file.startsWith('~/') ? path.join(this.homeDir, file.slice(1)) : file;
  }

  /** Host aliases written without wildcards in the user's config, for the Nodes view. */
  async listHostAliases(): Promise<string[]> {
    const config = SSHConfig.parse(await this.readConfigText(this.userConfigFile, 0));
    const aliases: string[] = [];
    for (const line of config) {
      if (line.type === SSHConfig.DIRECTIVE && /^host$/i.test(line.param)) {
        const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
        aliases.push(...values.filter((v) => v && isLiteralHost(v)));
      }
    }
    return [...new Set(aliases)];
  }

  async resolve(spec: string): Promise<ResolvedHost> {
    return this.resolveHop(spec, 0);
  }

  private async resolveHop(spec: string, depth: number): Promise<ResolvedHost> {
    if (depth > MAX_JUMP_HOPS) {
      throw errors.badHostSpec(`${spec} (ProxyJump chain longer than ${MAX_JUMP_HOPS} hops, or a loop)`);
    }
    const parsed = parseHostSpec(spec);
    const computed = await this.lookup(parsed, true);
    const one = (key: string): string | undefined => computed.get(key)?.[0];
    const many = (key: string): string[] => computed.get(key) ?? [];

    const hostName = (one('hostname') ?? parsed.host).replace(/%h/g, parsed.host);
    const port = parsed.port ?? toInt(one('port')) ?? 22;
    const user = parsed.user ?? one('user') ?? this.localUser;
    const tokens = (value: string) => this.expandTokens(value, { alias: parsed.host, hostName, port, user });

    const configured = many('identityfile').map(tokens);
    const identityFiles = configured.length > 0 ? configured : DEFAULT_IDENTITIES.map((name) => path.join(this.homeDir, '.ssh', name));

    const agentSetting = one('identityagent');
    const identityAgent =
      agentSetting === undefined
        ? this.env.SSH_AUTH_SOCK || undefined
        : agentSetting.toLowerCase() === 'none'
          ? undefined
          : agentSetting === 'SSH_AUTH_SOCK'
            ? this.env.SSH_AUTH_SOCK || undefined
            : tokens(agentSetting.replace(/^\$/, ''));

    const commandSetting = one('proxycommand');
    const proxyCommand = commandSetting && commandSetting.toLowerCase() !== 'none' ? commandSetting : undefined;
    const jumpSetting = one('proxyjump');
    const proxyJump: ResolvedHost[] = [];
    if (jumpSetting && jumpSetting.toLowerCase() !== 'none') {
      for (const hop of jumpSetting
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean)) {
        // ssh -G prints user@host:port hops as user@[host]:port; the brackets matter only for IPv6.
        const resolvedHop = await this.resolveHop(hop.replace(/\[([^\]:]+)\]/, '$1'), depth + 1);
        // A hop's own ProxyJump comes before it, as OpenSSH chains them.
        proxyJump.push(...resolvedHop.proxyJump, { ...resolvedHop, proxyJump: [] });
      }
    }

    const userKnown = many('userknownhostsfile')
      .flatMap((v) => v.split(/\s+/))
      .map((f) => this.fromPasswdHome(f));
    const globalKnown = many('globalknownhostsfile').flatMap((v) => v.split(/\s+/));
    const knownHostsFiles = [
      ...(userKnown.length > 0 ? userKnown : ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']),
      ...(globalKnown.length > 0 ? globalKnown : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
    ]
      .filter((f) => f.toLowerCase() !== 'none')
      .map(tokens);

    // ssh -G prints yes/no as true/false.
    const strict =
      ({ true: 'yes', false: 'no' } as Record<string, string>)[(one('stricthostkeychecking') ?? 'ask').toLowerCase()] ??
      (one('stricthostkeychecking') ?? 'ask').toLowerCase();
    const aliveInterval = toInt(one('serveraliveinterval'));
    return {
      alias: spec,
      hostName,
      port,
      user,
      identityFiles,
      identitiesOnly: (one('identitiesonly') ?? 'no').toLowerCase() === 'yes',
      identityAgent,
      proxyJump,
      // OpenSSH takes whichever of ProxyJump and ProxyCommand comes first; ssh -G prints only that one.
      proxyCommand: proxyJump.length > 0 ? undefined : proxyCommand,
      knownHostsFiles,
      hashKnownHosts: (one('hashknownhosts') ?? 'no').toLowerCase() === 'yes',
      strictHostKeyChecking:
        strict === 'yes' || strict === 'accept-new' || strict === 'no' || strict === 'off' ? (strict === 'off' ? 'no' : strict) : 'ask',
      // We keep a keepalive even when the config sets none: a silently dead link must be noticed.
      keepaliveIntervalMs: (aliveInterval && aliveInterval > 0 ? aliveInterval : 15) * 1000,
      keepaliveCountMax: toInt(one('serveralivecountmax')) ?? 3,
      connectTimeoutSeconds: toInt(one('connecttimeout')),
      opensshOnly: opensshOnlyDirectives(
        computed,
        needsUserOnlyCheck(computed) ? await this.lookup(parsed, false) : undefined,
        MATCH_EXEC.test(await this.readConfigText(this.userConfigFile, 0)),
      ),
      sshTarget: parsed,
    };
  }

  /** The ssh program and config files the openssh transport runs with (false: no ssh here). */
  get openssh(): { sshBinary: string | false; userConfigFile: string; systemConfigFile: string; env: NodeJS.ProcessEnv } {
    return { sshBinary: this.sshBinary, userConfigFile: this.userConfigFile, systemConfigFile: this.systemConfigFile, env: this.env };
  }

  /**
   * The directives OpenSSH would use for this host: from `ssh -G` when ssh exists, else from our
   * parser. `withSystemConfig: false` reads the user's config alone, to tell what the user set
   * from what the distribution's /etc/ssh/ssh_config sets for everyone.
   */
  private async lookup(parsed: HostSpec, withSystemConfig: boolean): Promise<SshDirectives> {
    if (this.sshBinary) {
      const fromSsh = await resolveWithSsh({
        sshBinary: this.sshBinary,
        userConfigFile: this.userConfigFile,
        systemConfigFile: withSystemConfig ? this.systemConfigFile : undefined,
        host: parsed.host,
        user: parsed.user,
        port: parsed.port,
        env: this.env,
      });
      if (fromSsh) {
        return fromSsh;
      }
      this.sshBinary = false;
    }
    const system = withSystemConfig ? '\nHost *\n' + (await this.readConfigText(this.systemConfigFile, 0)) : '';
    const text = (await this.readConfigText(this.userConfigFile, 0)) + system;
    const computed = SSHConfig.parse(text).compute(
      { Host: parsed.host, User: parsed.user },
      { ignoreCase: true, matchExec: false },
    ) as Record<string, string | string[] | undefined>;
    const directives: SshDirectives = new Map();
    for (const [key, value] of Object.entries(computed)) {
      if (value !== undefined) {
        directives.set(key.toLowerCase(), Array.isArray(value) ? value : [value]);
      }
    }
    return directives;
  }

  /**
   * ssh expands ~ with the passwd entry's home; the extension (and its parser) with $HOME. When the
   * two differ (a test or sandbox HOME), paths ssh expanded are mapped back so both agree.
   */
  private fromPasswdHome(file: string): string {
    const passwdHome = passwdHomeDir();
    if (!passwdHome || passwdHome === this.homeDir) {
      return file;
    }
    return file === passwdHome || file.startsWith(passwdHome + '/') ? path.join(this.homeDir, file.slice(passwdHome.length)) : file;
  }

  private expandTokens(value: string, ctx: { alias: string; hostName: string; port: number; user: string }): string {
    const expanded = value.replace(/%([%dhpruLlnik])/g, (_, token: string) => {
      switch (token) {
        case '%':
          return '%';
        case 'd':
          return this.homeDir;
        case 'h':
          return ctx.hostName;
        case 'p':
          return String(ctx.port);
        case 'r':
          return ctx.user;
        case 'u':
          return this.localUser;
        case 'n':
          return ctx.alias;
        case 'k':
          return ctx.alias;
        case 'l':
        case 'L':
          return os.hostname().split('.')[0];
        case 'i':
          return String(process.getuid?.() ?? '');
        default:
          return _;
      }
    });
    return expanded.startsWith('~/') || expanded === '~' ? path.join(this.homeDir, expanded.slice(1)) : expanded;
  }

  /** Inlines Include directives, which the parser leaves alone. Relative paths are under ~/.ssh. */
  private async readConfigText(file: string, depth: number): Promise<string> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return '';
      }
      throw err;
    }
    if (depth >= MAX_INCLUDE_DEPTH || !/^\s*include\b/im.test(text)) {
      return text;
    }
    const baseDir = file === this.systemConfigFile ? '/etc/ssh' : path.join(this.homeDir, '.ssh');
    const out: string[] = [];
    for (const line of text.split('\n')) {
      const m = /^\s*include\s+(.+)$/i.exec(line);
      if (!m) {
        out.push(line);
        continue;
      }
      for (const pattern of m[1]
        .trim()
        .split(/\s+/)
        .map((p) => p.replace(/^"|"$/g, ''))) {
        const abs = pattern.startsWith('~/') ? path.join(this.homeDir, pattern.slice(2)) : path.resolve(baseDir, pattern);
        for (const included of await expandGlob(abs)) {
          out.push(await this.readConfigText(included, depth + 1));
        }
      }
    }
    return out.join('\n');
  }
}

export interface HostSpec {
  host: string;
  user?: string;
  port?: number;
}

/** Splits alias, host, user@host, host:port, user@host:port and user@[v6]:port. */
export function parseHostSpec(spec: string): HostSpec {
  const trimmed = spec.trim();
  if (trimmed === '' || /[\s'"`;$\\]/.test(trimmed)) {
    throw errors.badHostSpec(spec);
  }
  const at = trimmed.lastIndexOf('@');
  const user = at > 0 ? trimmed.slice(0, at) : undefined;
  let rest = at >= 0 ? trimmed.slice(at + 1) : trimmed;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    rest = v6[1];
    port = v6[2] ? Number(v6[2]) : undefined;
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      rest = m[1];
      port = Number(m[2]);
    }
  }
  if (rest === '' || (port !== undefined && (port < 1 || port > 65535)) || rest.startsWith('-')) {
    throw errors.badHostSpec(spec);
  }
  return { host: rest, user, port };
}

async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?]/.test(pattern)) {
    return [pattern];
  }
  const dir = path.dirname(pattern);
  const re = new RegExp(
    '^' +
      path
        .basename(pattern)
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  try {
    return (await fs.readdir(dir))
      .filter((name) => re.test(name))
      .sort()
      .map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) {
    return undefined;
  }
  return Number(value);
}

function passwdHomeDir(): string | undefined {
  try {
    return os.userInfo().homedir;
  } catch {
    return undefined;
  }
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}
