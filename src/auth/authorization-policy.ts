import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import type { MethodInfo } from "../contract/method-info.js";
import { Code } from "../rpc/code.js";
import { FerryError } from "../rpc/ferry-error.js";
import type { MethodName } from "../resilience/service-config.js";
import { permissionDenied } from "./auth-error.js";
import type { Principal } from "./principal.js";

/** A rule comparing a claim of the caller's token with a field of the request: `{claim: "sub", field: "user_id"}` lets a user act only on their own `user_id`. */
export interface FieldMatch {
  /** The claim: a top-level name (`"sub"`, `"https://example.com/tenant"`) or a dotted path into nested claims (`"org.id"`). */
  readonly claim: string;
  /** The request field: its .proto name, dotted for nested messages (`"user_id"`, `"order.customer_id"`). */
  readonly field: string;
}

/**
 * What a call to the methods of `name` needs. Alternatives: the call is
 * allowed when `public` is true; or when its mTLS service identity is listed
 * in `services`; or when it carries a verified token and every user
 * condition that is set (`authenticated`, `scopes`, `claims`,
 * `fieldMatches`) holds. A rule that sets none of them allows nobody.
 */
export interface AuthorizationRule {
  /** The methods this rule covers, matched like the service config's `methodConfig` names: `{service, method}`, `{service}`, or `{}` for every method. */
  readonly name: readonly MethodName[];
  /** Anyone may call, with or without credentials (an invalid token is still refused). */
  readonly public?: boolean;
  /** Any caller with a verified token may call (with no further user condition). */
  readonly authenticated?: boolean;
  /** Scopes the token must all have (`scope`/`scp` claims). */
  readonly scopes?: readonly string[];
  /** Claims the token must carry: a string value must equal one of the listed values, a list-valued claim (roles, groups) must contain one. */
  readonly claims?: Readonly<Record<string, string | readonly string[]>>;
  /** Claim-versus-request-field equalities; each must hold. Only for methods with a single request message (unary and server streaming). */
  readonly fieldMatches?: readonly FieldMatch[];
  /** Service identities (mTLS, see `ServiceIdentity.id`) allowed to call; `"*"` allows any verified certificate. */
  readonly services?: readonly string[];
}

/**
 * An authorization policy: one rule per method name, looked up as gRPC
 * looks up `methodConfig` (exact `service/method`, then `service`, then the
 * default `{}`). Once a policy is set, a method no rule covers is denied
 * (default deny). Denials are PERMISSION_DENIED (HTTP 403); calls without
 * credentials to a non-public method are UNAUTHENTICATED (HTTP 401).
 */
export interface AuthorizationPolicy {
  readonly rules: readonly AuthorizationRule[];
}

/** The outcome of {@link PolicyEngine.decide}: allowed, or the error to answer with. */
export type PolicyDecision = { readonly allowed: true } | { readonly allowed: false; readonly error: FerryError };

const ALLOWED: PolicyDecision = { allowed: true };
const RULE_KEYS = new Set(["name", "public", "authenticated", "scopes", "claims", "fieldMatches", "services"]);

/**
 * Validates a policy (an object, or JSON text of the same shape).
 *
 * @throws FerryError INVALID_ARGUMENT naming the bad entry (`invalid authorization policy: rules[2].scopes must be a list of strings`), for unknown keys and for a method name covered by two rules.
 */
export function parseAuthorizationPolicy(input: unknown): AuthorizationPolicy {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw invalid("", `is not valid JSON (${(err as Error).message})`);
    }
  }
  if (!isObject(value)) throw invalid("", "must be an object {rules: [...]}");
  for (const key of Object.keys(value)) if (key !== "rules") throw invalid(key, "is not a known field (expected rules)");
  const rules = value.rules;
  if (!Array.isArray(rules)) throw invalid("rules", "must be a list");
  const seen = new Map<string, number>();
  const out = rules.map((r, i) => parseRule(r, `rules[${i}]`));
  out.forEach((rule, i) => {
    for (const n of rule.name) {
      const key = nameKey(n);
      const first = seen.get(key);
      if (first !== undefined) throw invalid(`rules[${i}].name`, `repeats ${key === "" ? "the default name {}" : `"${key}"`} of rules[${first}]`);
      seen.set(key, i);
    }
  });
  return { rules: out };
}

function parseRule(value: unknown, path: string): AuthorizationRule {
  if (!isObject(value)) throw invalid(path, "must be an object");
  for (const key of Object.keys(value)) if (!RULE_KEYS.has(key)) throw invalid(`${path}.${key}`, `is not a known field (expected one of ${[...RULE_KEYS].join(", ")})`);
  const names = value.name;
  if (!Array.isArray(names) || names.length === 0) throw invalid(`${path}.name`, "must be a non-empty list of {service, method?}");
  const rule: { -readonly [K in keyof AuthorizationRule]: AuthorizationRule[K] } = { name: names.map((n, i) => parseName(n, `${path}.name[${i}]`)) };
  for (const flag of ["public", "authenticated"] as const) {
    const v = value[flag];
    if (v === undefined) continue;
    if (typeof v !== "boolean") throw invalid(`${path}.${flag}`, "must be true or false");
    rule[flag] = v;
  }
  if (value.scopes !== undefined) rule.scopes = stringList(value.scopes, `${path}.scopes`);
  if (value.services !== undefined) rule.services = stringList(value.services, `${path}.services`);
  if (value.claims !== undefined) {
    if (!isObject(value.claims)) throw invalid(`${path}.claims`, "must be an object of claim name to value(s)");
    const claims: Record<string, string | readonly string[]> = {};
    for (const [k, v] of Object.entries(value.claims)) claims[k] = typeof v === "string" ? v : stringList(v, `${path}.claims.${k}`);
    rule.claims = claims;
  }
  if (value.fieldMatches !== undefined) {
    if (!Array.isArray(value.fieldMatches)) throw invalid(`${path}.fieldMatches`, "must be a list of {claim, field}");
    rule.fieldMatches = value.fieldMatches.map((m, i) => {
      const p = `${path}.fieldMatches[${i}]`;
      if (!isObject(m) || typeof m.claim !== "string" || typeof m.field !== "string" || m.claim === "" || m.field === "" || Object.keys(m).length !== 2) {
        throw invalid(p, "must be {claim: string, field: string}");
      }
      return { claim: m.claim, field: m.field };
    });
  }
  if (rule.public === true && (rule.services !== undefined || hasUserConditions(rule))) throw invalid(path, "is public and sets other conditions; a public rule needs none");
  return rule;
}

function parseName(value: unknown, path: string): MethodName {
  if (!isObject(value)) throw invalid(path, "must be an object {service, method?}");
  for (const key of Object.keys(value)) if (key !== "service" && key !== "method") throw invalid(`${path}.${key}`, "is not a known field (expected service, method)");
  const service = value.service ?? "";
  const method = value.method ?? "";
  if (typeof service !== "string" || typeof method !== "string") throw invalid(path, "service and method must be strings");
  if (method !== "" && service === "") throw invalid(path, "names a method without a service");
  if (method === "") return service === "" ? {} : { service };
  return { service, method };
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) throw invalid(path, "must be a list of non-empty strings");
  return value as string[];
}

function nameKey(name: MethodName): string {
  if (name.service === undefined || name.service === "") return "";
  return name.method === undefined ? name.service : `${name.service}/${name.method}`;
}

function hasUserConditions(rule: AuthorizationRule): boolean {
  return rule.authenticated === true || rule.scopes !== undefined || rule.claims !== undefined || rule.fieldMatches !== undefined;
}

/**
 * A compiled {@link AuthorizationPolicy}: finds a method's rule once per
 * method (cached) and decides calls against it.
 */
export class PolicyEngine {
  readonly #byName = new Map<string, AuthorizationRule>();
  readonly #cache = new Map<string, AuthorizationRule | null>();

  constructor(policy: AuthorizationPolicy) {
    const parsed = parseAuthorizationPolicy(policy);
    for (const rule of parsed.rules) for (const n of rule.name) this.#byName.set(nameKey(n), rule);
  }

  /** The rule covering `method` (exact, then service, then default), or `undefined` (denied by default). */
  ruleFor(method: MethodInfo): AuthorizationRule | undefined {
    let rule = this.#cache.get(method.path);
    if (rule === undefined) {
      const service = method.service.typeName;
      rule = this.#byName.get(`${service}/${method.method.name}`) ?? this.#byName.get(service) ?? this.#byName.get("") ?? null;
      this.#cache.set(method.path, rule);
    }
    return rule ?? undefined;
  }

  /** True when `method`'s rule is public (anyone may call it). */
  isPublic(method: MethodInfo): boolean {
    return this.ruleFor(method)?.public === true;
  }

  /**
   * Decides one call. `message` is the request message (unary and
   * server-streaming methods) or `undefined` (client and bidi streaming).
   * The caller answers UNAUTHENTICATED itself for anonymous calls to
   * non-public methods; this returns PERMISSION_DENIED decisions.
   */
  decide(method: MethodInfo, principal: Principal | undefined, message: Message | undefined): PolicyDecision {
    const rule = this.ruleFor(method);
    if (rule === undefined) return deny(`${method.path} is not covered by the authorization policy (default deny)`);
    if (rule.public === true) return ALLOWED;
    if (principal === undefined) return deny(`${method.path} needs credentials`);
    const service = principal.service;
    if (service !== undefined && rule.services !== undefined && (rule.services.includes("*") || rule.services.includes(service.id))) return ALLOWED;
    const hasToken = principal.subject !== undefined || Object.keys(principal.claims).length > 0;
    if (!hasUserConditions(rule) || !hasToken) {
      if (service !== undefined && rule.services !== undefined) return deny(`service ${service.id} may not call ${method.path}`);
      if (service !== undefined) return deny(`${method.path} may not be called by services (service ${service.id})`);
      return deny(`${method.path} may not be called with a user token`);
    }
    return checkUser(rule, method, principal, message);
  }
}

function checkUser(rule: AuthorizationRule, method: MethodInfo, principal: Principal, message: Message | undefined): PolicyDecision {
  if (rule.scopes !== undefined) {
    const missing = rule.scopes.filter((s) => !principal.scopes.has(s));
    if (missing.length > 0) return { allowed: false, error: permissionDenied(`${method.path} needs scope${missing.length > 1 ? "s" : ""} ${missing.map((s) => `"${s}"`).join(", ")}`, rule.scopes) };
  }
  if (rule.claims !== undefined) {
    for (const [name, wanted] of Object.entries(rule.claims)) {
      const accepted = typeof wanted === "string" ? [wanted] : wanted;
      const actual = claimValue(principal.claims, name);
      const values = Array.isArray(actual) ? actual : [actual];
      if (!values.some((v) => (typeof v === "string" || typeof v === "number" || typeof v === "boolean") && accepted.includes(String(v)))) {
        return deny(`${method.path} needs claim "${name}" to be ${accepted.length > 1 ? "one of " : ""}${accepted.map((a) => `"${a}"`).join(", ")}`);
      }
    }
  }
  if (rule.fieldMatches !== undefined) {
    if (message === undefined) return deny(`${method.path}: field rules need a single request message; streaming requests are denied`);
    for (const m of rule.fieldMatches) {
      const claim = claimValue(principal.claims, m.claim);
      const field = fieldValue(method.input, message, m.field);
      if (field === noField) return deny(`${method.path}: the policy names field "${m.field}", which ${method.input.typeName} does not have`);
      if (!isScalar(claim) || !isScalar(field) || String(claim) !== String(field) || String(field) === "") {
        return deny(`${method.path} needs claim "${m.claim}" to equal request field ${m.field}`);
      }
    }
  }
  return ALLOWED;
}

const noField = Symbol("no such field");

/** The value of a request field given by .proto name, dotted for nested messages. */
function fieldValue(desc: DescMessage, message: Message, path: string): unknown {
  let d: DescMessage | undefined = desc;
  let value: unknown = message;
  for (const part of path.split(".")) {
    const field: DescField | undefined = d?.fields.find((f) => f.name === part || f.jsonName === part);
    if (field === undefined || d === undefined) return noField;
    if (value === undefined || value === null) return undefined;
    value = (value as Record<string, unknown>)[field.localName];
    d = field.fieldKind === "message" ? field.message : undefined;
  }
  return value;
}

function claimValue(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split(".")) {
    if (!isObject(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value;
}

function isScalar(v: unknown): v is string | number | bigint | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "bigint" || typeof v === "boolean";
}

function deny(message: string): PolicyDecision {
  return { allowed: false, error: permissionDenied(message) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function invalid(path: string, message: string): FerryError {
  return new FerryError(Code.INVALID_ARGUMENT, `invalid authorization policy: ${path === "" ? "the policy" : path} ${message}`);
}
