/**
 * `ConnectFnStack`: a stack holding one {@link ConnectFnConnectors}, what `infra/bin/app.ts` deploys.
 * Environment-agnostic unless `env` is given: `cdk synth` needs no AWS account.
 * @module
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ConnectFnConnectors, type ConnectFnConnectorsProps } from './connect-fn-connectors.ts';

export interface ConnectFnStackProps extends StackProps {
  readonly connectors: ConnectFnConnectorsProps;
}

export class ConnectFnStack extends Stack {
  readonly connectors: ConnectFnConnectors;

  constructor(scope: Construct, id: string, props: ConnectFnStackProps) {
    super(scope, id, props);
    this.connectors = new ConnectFnConnectors(this, 'Connectors', props.connectors);
  }
}
