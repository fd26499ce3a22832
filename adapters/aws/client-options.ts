import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';

/** Connection settings shared by every AWS target. */
export interface AwsConnectionOptions {
  region: string;
  /** Endpoint override, for LocalStack or an emulator (plain http is fine). */
  endpoint?: string;
  /** Static credentials; the SDK's default provider chain when omitted. */
  credentials?: AwsCredentialIdentity;
}

/**
 * SDK v3 client configuration for spillway's targets: HTTP/1.1 (emulators and
 * LocalStack speak plain http), one attempt per call (spillway's router does
 * the retrying and failing over), and the endpoint override when given.
 */
export function awsClientConfig(options: AwsConnectionOptions): {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentity;
  maxAttempts: number;
  requestHandler: NodeHttpHandler;
} {
  return {
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }), // the SDK annotates the object it gets
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000 }),
  };
}
