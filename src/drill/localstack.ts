/**
 * The `localstack` drill backend: two LocalStack containers standing for two regions, started through
 * `@testcontainers/localstack`. That package (and a Docker engine) is not a dependency of spillway: it is
 * loaded with a dynamic import only when this backend is chosen, and every way this can fail says what is
 * missing and how to fix it.
 */
import { ConfigError } from '../errors/index.js';

/** The LocalStack image the backend runs. */
export const LOCALSTACK_IMAGE = 'localstack/localstack:4';

/** Two running LocalStack containers. */
export interface LocalStackPair {
  endpoints: [string, string];
  stop(): Promise<void>;
}

interface ContainerModule {
  LocalstackContainer: new (image: string) => {
    withEnvironment(env: Record<string, string>): ContainerBuilder;
  };
}
interface ContainerBuilder {
  withEnvironment(env: Record<string, string>): ContainerBuilder;
  start(): Promise<{ getConnectionUri(): string; stop(): Promise<unknown> }>;
}

/** How the module is loaded; a parameter so that the missing-package message can be tested. */
export type ModuleLoader = (name: string) => Promise<unknown>;

/** The package this backend needs. */
export const LOCALSTACK_PACKAGE = '@testcontainers/localstack';

/**
 * Starts the two containers. Throws a {@link ConfigError} naming what is missing: the token
 * (`LOCALSTACK_AUTH_TOKEN`, required by the LocalStack image since March 2026), the package, a Docker engine,
 * or an image that did not start.
 */
export async function startLocalStackPair(env: NodeJS.ProcessEnv = process.env, load: ModuleLoader = (name) => import(name)): Promise<LocalStackPair> {
  const token = env.LOCALSTACK_AUTH_TOKEN;
  if (!token) {
    throw new ConfigError(
      '--backend localstack: LOCALSTACK_AUTH_TOKEN is not set. The LocalStack image needs an auth token since March 2026; export LOCALSTACK_AUTH_TOKEN=<your token> (from app.localstack.cloud) and run again, or use --backend embedded',
      { field: 'LOCALSTACK_AUTH_TOKEN' },
    );
  }
  const module = await loadContainerModule(load);
  const started: Array<{ getConnectionUri(): string; stop(): Promise<unknown> }> = [];
  try {
    for (const region of ['us-east-1', 'us-west-2']) {
      const builder = new module.LocalstackContainer(LOCALSTACK_IMAGE).withEnvironment({ LOCALSTACK_AUTH_TOKEN: token, SERVICES: 'kinesis,sqs,events', DEFAULT_REGION: region, KINESIS_PROVIDER: 'kinesis-mock' });
      started.push(await builder.start());
    }
  } catch (error) {
    for (const c of started) await c.stop().catch(() => undefined);
    throw containerError(error);
  }
  return { endpoints: [started[0]?.getConnectionUri() as string, started[1]?.getConnectionUri() as string], stop: async () => void (await Promise.all(started.map((c) => c.stop()))) };
}

async function loadContainerModule(load: ModuleLoader): Promise<ContainerModule> {
  try {
    return (await load(LOCALSTACK_PACKAGE)) as ContainerModule;
  } catch (cause) {
    throw new ConfigError(
      `--backend localstack needs the ${LOCALSTACK_PACKAGE} package, which spillway does not install (it pulls in Docker tooling a production install should not carry). Install it next to spillway with \`npm install --no-save ${LOCALSTACK_PACKAGE}\` and make sure a Docker engine is running, or use --backend embedded`,
      { field: 'backend', cause },
    );
  }
}

function containerError(error: unknown): ConfigError {
  const message = error instanceof Error ? error.message : String(error);
  if (/container runtime|docker\.sock|ENOENT|ECONNREFUSED|Cannot connect to the Docker/i.test(message)) {
    return new ConfigError(`--backend localstack: no Docker engine answers (${message.split('\n')[0]}). Start Docker (or set DOCKER_HOST), or use --backend embedded`, { field: 'backend', cause: error });
  }
  return new ConfigError(`--backend localstack: the ${LOCALSTACK_IMAGE} image did not start: ${message.split('\n')[0]}. Check LOCALSTACK_AUTH_TOKEN is valid and the container's logs (docker logs)`, { field: 'backend', cause: error });
}
