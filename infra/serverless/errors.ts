/**
 * The error of the Serverless derivation: a package directory or a deployment parameter that cannot make
 * a template. Its message names the file, connector or parameter and what was expected; never a value
 * that could be secret (the values given for a bundle's `${env:...}` variables).
 * @module
 */
import { ConnectFnError } from '../../src/errors.ts';

export class DeployConfigError extends ConnectFnError {
  readonly code = 'CONNECT_FN_DEPLOY_CONFIG';
}
