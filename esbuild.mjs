// Bundles the extension into dist/extension.js. Type checking is `tsc --noEmit`'s job, not this file's.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

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

const options = {
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  external: ['vscode'],
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'info',
  plugins: [optionalNativeParts],
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
