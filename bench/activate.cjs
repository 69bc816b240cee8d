// Measures the extension's activation in plain Node: require + activate() of dist/extension.js with a
// stub `vscode` module (any property is a callable, constructible no-op). Prints {"ms": …} as JSON.
// `--baseline` measures require('ssh2') alone instead, the bulk of what the bundle carries.
const Module = require('module');
const path = require('path');

function stub(name) {
  const fn = function () {
    return stub(`${name}()`);
  };
  return new Proxy(fn, {
    get(target, prop) {
      if (prop === 'then') return undefined; // not a promise: `await stub` must not hang
      if (prop === Symbol.toPrimitive) return () => '';
      if (prop === Symbol.iterator) return function* () {};
      if (prop === 'prototype') return target.prototype;
      if (prop === 'length') return 0;
      return stub(`${name}.${String(prop)}`);
    },
    apply() {
      return stub(`${name}()`);
    },
    construct() {
      return stub(`new ${name}`);
    },
  });
}

// A plain object (esbuild's interop copies own properties) holding a stub for every name vscode exports.
const dts = require('fs').readFileSync(require.resolve('@types/vscode/index.d.ts', { paths: [path.resolve(__dirname, '..')] }), 'utf8');
const vscodeStub = {};
for (const m of dts.matchAll(/^\t?export (?:namespace|class|enum|const|function|let) (\w+)/gm)) {
  vscodeStub[m[1]] = stub(`vscode.${m[1]}`);
}
const realResolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'vscode' ? 'vscode' : realResolve.call(this, request, ...rest);
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscodeStub };

const t0 = process.hrtime.bigint();
if (process.argv[2] === '--baseline') {
  require(require.resolve('ssh2', { paths: [path.resolve(__dirname, '..')] }));
} else {
  const ext = require(path.resolve(process.argv[2]));
  const subscriptions = [];
  const context = new Proxy(
    { subscriptions, extensionPath: path.resolve(__dirname, '..'), extensionUri: stub('uri') },
    {
      get: (t, p) => (p in t ? t[p] : stub(`context.${String(p)}`)),
    },
  );
  ext.activate(context);
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(JSON.stringify({ ms }) + '\n');
process.exit(0);
