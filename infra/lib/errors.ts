/**
 * The error of both IaC paths: a package directory or a deployment option (CDK prop or context, osls
 * parameter) that cannot make a template. Its message names the file, connector or option and what was
 * expected; never a value that could be secret (the values given for a bundle's `${env:...}` variables). Shaped like the errors of
 * src/errors.ts (a stable `code`, `name` the class), which infra/ does not import (its dependency rule).
 * @module
 */
export class DeployConfigError extends Error {
  readonly code = 'CONNECT_FN_DEPLOY_CONFIG';

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
