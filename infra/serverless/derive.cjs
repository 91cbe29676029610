// serverless.yml's entry to the derivation (derive.ts). osls loads JS variable sources with require(), so
// this file is CommonJS; it loads the TypeScript through tsx (a dependency of connect-fn) and derives once
// per osls run. `functions` and `resources` are asked for separately; both get the same derivation.
// tsx's CommonJS API, not `tsImport` of tsx/esm/api: required from CommonJS, tsx 4.23's ESM API looks for its
// loader at a path that does not exist (dist/esm/api/esm/index.mjs).
'use strict';
const { resolve } = require('node:path');
const tsx = require('tsx/cjs/api');

const SERVICE_DIR = resolve(__dirname, '..', '..');
let derivation;

function derived(context) {
  derivation ??= Promise.resolve()
    .then(() => tsx.require('./derive.ts', __filename).deriveFromOsls(context, SERVICE_DIR))
    .catch((err) => {
      // osls asks again once a variable can be resolved (MISSING_VARIABLE_DEPENDENCY): derive afresh then.
      derivation = undefined;
      // Our own errors name the file, connector or parameter: show the message, not a stack of internals.
      if (err && err.code === 'CONNECT_FN_DEPLOY_CONFIG') err.stack = `${err.name}: ${err.message}`;
      throw err;
    });
  return derivation;
}

module.exports = {
  functions: async (context) => (await derived(context)).functions,
  resources: async (context) => (await derived(context)).resources,
};
