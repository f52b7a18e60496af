import { Etcd3, EtcdAuthenticationFailedError, EtcdLeaseInvalidError, EtcdPermissionDeniedError, EtcdUserNotFoundError, type Lease } from "etcd3";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import { tlsOptionsFromUrl } from "../util/tls-url-options.js";
import { BackendRegistry, withoutInproc, type BackendLease, type EffectiveRegisterOptions } from "./backend-registry.js";
import { EtcdFeed, readEtcdService, servicePrefix } from "./etcd-feed.js";
import { encodeInstance } from "./instance-validation.js";
import type { RegistryOptions } from "./registry-options.js";
import type { RegistryListener, RegistryWatch, ServiceInstance } from "./service-registry.js";
import { ServiceWatchHub } from "./service-watch-hub.js";

/** Default key prefix of the etcd registry. */
export const DEFAULT_ETCD_PREFIX = "/ferry/registry/";
/** How long {@link createEtcdRegistry} waits for etcd to answer, in milliseconds. */
export const DEFAULT_ETCD_CONNECT_TIMEOUT_MS = 5_000;

/** Options of {@link createEtcdRegistry}. */
export interface EtcdRegistryOptions extends RegistryOptions {
  /** etcd client URL(s); default `"http://127.0.0.1:2379"`. Used when `client` is absent. */
  hosts?: string | string[];
  /** An existing client to use (not closed by {@link ServiceRegistry.close}). */
  client?: Etcd3;
  /** Key prefix, ending in `/`; default {@link DEFAULT_ETCD_PREFIX}. Keys are `<prefix><service>/<instanceId>`. */
  prefix?: string;
  /** How long to wait for etcd at creation, and the longest a connection attempt or a unary call (put, keep-alive, read) may take before it fails and is retried on another member, in milliseconds; default 5000. */
  connectTimeoutMs?: number;
  /** etcd user and password (etcd's `auth enable`); the client exchanges them for a token. Default none. */
  auth?: { readonly username: string; readonly password: string };
  /**
   * TLS to etcd (`--client-cert-auth` servers need `cert` and `key`): PEM
   * `ca` (default: the system CAs), and a client certificate. With
   * `--client-cert-auth` and auth enabled, etcd takes the certificate's common
   * name as the user when no `auth` is given. `http://` hosts become
   * `https://`. Default none (cleartext).
   */
  tls?: { readonly ca?: string | Buffer; readonly cert?: string | Buffer; readonly key?: string | Buffer };
}

/**
 * The credentials of an `etcd://` registry URL:
 *
 * | URL part | meaning |
 * |---|---|
 * | `etcd://user:password@host:2379` | etcd password auth (percent-encoded) |
 * | `?tls=true` | TLS, checking etcd against the system CAs |
 * | `?tls_ca=/path/ca.pem` | TLS, trusting this CA |
 * | `?tls_cert=/path/cert.pem&tls_key=/path/key.pem` | a client certificate (`--client-cert-auth`) |
 *
 * @throws FerryError INVALID_ARGUMENT for an unknown `tls_*` parameter, `tls_cert` without `tls_key`, or an unreadable file (naming the parameter).
 */
export function etcdUrlCredentials(url: URL): Pick<EtcdRegistryOptions, "auth" | "tls"> {
  const q = new URL(url.href);
  const wantTls = q.searchParams.get("tls") === "true";
  q.searchParams.delete("tls");
  const anyTlsParam = [...q.searchParams.keys()].some((k) => k.startsWith("tls"));
  const tls = tlsOptionsFromUrl(q, undefined, wantTls || anyTlsParam, "etcd registry URL");
  const auth = url.username === "" ? undefined : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  return { auth, tls: tls === undefined ? undefined : { ca: tls.ca as string | undefined, cert: tls.cert as string | undefined, key: tls.key as string | undefined } };
}

function etcdClient(hosts: string | string[], options: EtcdRegistryOptions): Etcd3 {
  const tls = options.tls;
  const https = (h: string) => (tls === undefined ? h : h.replace(/^http:\/\//, "https://"));
  const pem = (v: string | Buffer | undefined) => (v === undefined ? undefined : Buffer.from(v));
  return new Etcd3({
    hosts: Array.isArray(hosts) ? hosts.map(https) : https(hosts),
    auth: options.auth === undefined ? undefined : { username: options.auth.username, password: options.auth.password },
    credentials: tls === undefined ? undefined : { rootCertificate: pem(tls.ca) ?? Buffer.alloc(0), privateKey: pem(tls.key), certChain: pem(tls.cert) },
    // Bounded dials and unary calls: without them a keep-alive sent to a dead cluster member waited (dial timeout 30 s,
    // no deadline) while later heartbeats were skipped and the lease expired; with them the call fails and is retried on
    // another member (etcd3's global retry policy).
    dialTimeout: options.connectTimeoutMs ?? DEFAULT_ETCD_CONNECT_TIMEOUT_MS,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + (options.connectTimeoutMs ?? DEFAULT_ETCD_CONNECT_TIMEOUT_MS) }),
  });
}

/**
 * The etcd registry (`etcd://`): each registration holds a lease with its
 * TTL (rounded up to whole seconds; etcd may raise it to its minimum lease
 * TTL) and puts `<prefix><service>/<instanceId>` under it. Heartbeats are
 * lease keep-alives; if the lease was lost (e.g. after a long partition) the
 * next heartbeat grants a new lease and puts the key again. Closing revokes
 * the lease, which deletes the key. A process that dies stops its
 * keep-alives, etcd expires the lease and deletes the key, and watchers see
 * the delete (etcd's documented lease semantics).
 */
export class EtcdRegistry extends BackendRegistry {
  readonly kind = "etcd";
  readonly #client: Etcd3;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #hub: ServiceWatchHub;

  /** Use {@link createEtcdRegistry}. */
  constructor(client: Etcd3, ownsClient: boolean, prefix: string, options: RegistryOptions) {
    super(options);
    this.#client = client;
    this.#ownsClient = ownsClient;
    this.#prefix = prefix;
    this.#hub = new ServiceWatchHub((service, sink) => new EtcdFeed(client, prefix, service, sink), this.logger);
  }

  protected override prepare(instance: ServiceInstance): ServiceInstance {
    return withoutInproc(instance);
  }

  protected async openLease(instance: ServiceInstance, options: EffectiveRegisterOptions): Promise<BackendLease> {
    const ttlSeconds = Math.ceil(options.ttlMs / 1000);
    const key = `${servicePrefix(this.#prefix, instance.service)}${instance.instanceId}`;
    const value = encodeInstance(instance, ttlSeconds * 1000);
    let lease: Lease | undefined;
    const grantAndPut = async (): Promise<void> => {
      const next = this.#client.lease(ttlSeconds, { autoKeepAlive: false });
      next.on("lost", () => undefined);
      try {
        await next.put(key).value(value).exec();
      } catch (error) {
        next.release();
        throw error;
      }
      lease?.release();
      lease = next;
    };
    await grantAndPut();
    const renew = async (): Promise<void> => {
      try {
        if (lease === undefined || lease.revoked()) return await grantAndPut();
        await lease.keepaliveOnce();
      } catch (error) {
        if (!(error instanceof EtcdLeaseInvalidError)) throw error;
        await grantAndPut();
      }
    };
    return { ttlMs: ttlSeconds * 1000, renew, deregister: async () => lease?.revoke() };
  }

  protected async list(service: string): Promise<ServiceInstance[]> {
    return (await readEtcdService(this.#client, this.#prefix, service)).instances;
  }

  protected watchService(service: string, listener: RegistryListener): RegistryWatch {
    return this.#hub.watch(service, listener);
  }

  protected async closeBackend(): Promise<void> {
    await this.#hub.close();
    if (this.#ownsClient) this.#client.close();
  }
}

/**
 * Creates an etcd registry and checks that etcd answers within
 * `connectTimeoutMs` (a read under the prefix, so credentials and permissions
 * are checked too). Raises UNAVAILABLE when it does not (a failed TLS
 * handshake included), UNAUTHENTICATED for a wrong user or password,
 * PERMISSION_DENIED when the user may not read the prefix, INVALID_ARGUMENT
 * for a prefix that does not end in `/`. Messages never contain the password.
 */
export async function createEtcdRegistry(options: EtcdRegistryOptions = {}): Promise<EtcdRegistry> {
  const prefix = options.prefix ?? DEFAULT_ETCD_PREFIX;
  if (!prefix.endsWith("/")) throw new FerryError(Code.INVALID_ARGUMENT, `etcd prefix "${prefix}" must end with "/"`);
  const hosts = options.hosts ?? "http://127.0.0.1:2379";
  const client = options.client ?? etcdClient(hosts, options);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_ETCD_CONNECT_TIMEOUT_MS;
  try {
    // A range read, not maintenance.status: it goes through authentication and the user's permissions.
    await client.get(`${prefix}.ferry-probe`).options({ deadline: new Date(Date.now() + timeoutMs) }).exec();
  } catch (error) {
    if (options.client === undefined) client.close();
    const denied = error instanceof EtcdAuthenticationFailedError || error instanceof EtcdUserNotFoundError || error instanceof EtcdPermissionDeniedError;
    if (denied) throw new FerryError(error instanceof EtcdPermissionDeniedError ? Code.PERMISSION_DENIED : Code.UNAUTHENTICATED, `etcd registry: ${error.message}`, { cause: error });
    throw new FerryError(Code.UNAVAILABLE, `etcd registry: ${String(hosts)} did not answer within ${timeoutMs} ms: ${(error as Error).message}`, { cause: error });
  }
  return new EtcdRegistry(client, options.client === undefined, prefix, options);
}
