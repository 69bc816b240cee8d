// Bundles the extension into dist/extension.js, ssh2 (loaded on the first connection) into
// dist/ssh2.js, and @kubernetes/client-node (loaded when a kubeconfig is read) into dist/kube.js. Type checking is `tsc --noEmit`'s job, not this file's.
//   node esbuild.mjs [--production] [--watch] [--outdir DIR]
import * as esbuild from 'esbuild';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    production: { type: 'boolean', default: false },
    watch: { type: 'boolean', default: false },
    outdir: { type: 'string', default: 'dist' },
  },
});
const { production, watch, outdir } = values;

/**
 * ssh2 tries `require('…/sshcrypto.node')` and `require('cpu-features')` inside try/catch and
 * falls back to pure JS. A native addon built for the build machine's Node would not load in
 * VS Code's Electron anyway, so these stay out of the bundle and the fallback is taken.
 */
const optionalNativeParts = {
  name: 'optional-native-parts',
  setup(build) {
    build.onResolve({ filter: /\.node$|^cpu-features$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * ssh2 and its crypto are two thirds of the code and are only needed once a node is contacted
 * (src/ssh/connect.ts requires it lazily), so they live in their own file: activation reads less,
 * and no single file is most of the package.
 */
const ssh2Beside = {
  name: 'ssh2-beside',
  setup(build) {
    // src/ssh/opensshSftp.ts drives ssh2's SFTP class directly; ssh2.js carries it as `SFTP`.
    build.onResolve({ filter: /^ssh2$|^ssh2\/lib\/protocol\/SFTP\.js$/ }, () => ({ path: './ssh2.js', external: true }));
  },
};

/**
 * @kubernetes/client-node is read only when the Nodes view lists a cluster (src/cluster/kubeconfigs.ts
 * requires it lazily), and only its KubeConfig is used (credentials: certificates, tokens, exec
 * plugins); the requests are our own. So it lives in its own file, cut down to that class.
 */
const kubeBeside = {
  name: 'kube-beside',
  setup(build) {
    build.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({ path: './kube.js', external: true }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  external: ['vscode'],
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'info',
};
const builds = [
  { ...common, entryPoints: { extension: 'src/extension.ts' }, outdir, plugins: [optionalNativeParts, ssh2Beside, kubeBeside] },
  {
    ...common,
    stdin: {
      contents: "module.exports = require('ssh2'); module.exports.SFTP = require('ssh2/lib/protocol/SFTP.js').SFTP;",
      resolveDir: import.meta.dirname,
      loader: 'js',
    },
    outfile: `${outdir}/ssh2.js`,
    plugins: [optionalNativeParts],
  },
  {
    ...common,
    stdin: { contents: "export { KubeConfig } from '@kubernetes/client-node';", resolveDir: import.meta.dirname, loader: 'js' },
    outfile: `${outdir}/kube.js`,
  },
];

if (watch) {
  for (const options of builds) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
