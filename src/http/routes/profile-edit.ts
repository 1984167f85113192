import type { FastifyInstance } from 'fastify';
import { existsSync, promises as fs } from 'node:fs';
import { parseDocument, stringify } from 'yaml';
import { KindlingError } from '../../errors.js';
import { profileNamePattern, profileSchema, type Profile } from '../../inventory/profile.js';
import { renderBootPlan } from '../../render/ipxe.js';
import { serverUrlFor, type HttpDeps } from '../context.js';
import { maskedToken } from './api.js';
import { macParam } from './boot.js';

// Profile editing for the page: the same zod schema as the file loader checks every
// draft (POST /api/profiles/validate answers issues with key paths as the operator
// types), files are written atomically under DATADIR/config/profiles/, and the
// directory watcher plus an explicit reload make them current.

export interface DraftIssue {
  path: string[];
  message: string;
}

/** A draft is either YAML text (comments kept) or an object from the form. */
type DraftBody = { yaml?: unknown; profile?: unknown };

export function checkProfileName(name: string): string {
  if (name.includes('/') || name.includes('\\') || name.includes('..') || name.includes('\0')) {
    throw new KindlingError(
      'PATH_INVALID',
      `profile name "${name.slice(0, 64)}" must not contain "/", "\\" or ` +
        `".."; expected lower-case letters, digits, - or _`,
      { name: name.slice(0, 64) },
    );
  }
  if (!profileNamePattern.test(name))
    throw new KindlingError(
      'REQUEST_INVALID',
      `profile name "${name.slice(0, 64)}" must be 1-63 lower-case letters, ` +
        `digits, - or _, starting with a letter or digit`,
      { name: name.slice(0, 64) },
    );
  return name;
}

/** Parses and validates a draft; never throws for a bad draft, only reports it. */
export function checkDraft(body: DraftBody): {
  data: unknown;
  issues: DraftIssue[];
  profile: ReturnType<typeof profileSchema.parse> | null;
  text: string;
} {
  let data: unknown;
  let text: string;
  if (typeof body.yaml === 'string') {
    text = body.yaml;
    const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    const first = doc.errors[0];
    if (first)
      return {
        data: null,
        issues: [{ path: [], message: `YAML does not parse: ${first.message.split('\n')[0]}` }],
        profile: null,
        text,
      };
    data = doc.toJS() ?? {};
  } else if (body.profile !== null && typeof body.profile === 'object' && !Array.isArray(body.profile)) {
    data = body.profile;
    text = stringify(data, { lineWidth: 0 });
  } else {
    throw new KindlingError(
      'REQUEST_INVALID',
      'expected a JSON body with "yaml" (the profile as YAML text) or "profile" (the profile as an object)',
    );
  }
  const result = profileSchema.safeParse(data);
  if (result.success) return { data, issues: [], profile: result.data, text };
  const issues = result.error.issues.flatMap((i): DraftIssue[] => {
    const p = i.path.map(String);
    if (i.code === 'unrecognized_keys')
      return i.keys.map((k) => ({ path: [...p, k], message: `unknown key "${[...p, k].join('.')}"` }));
    return [{ path: p, message: i.message }];
  });
  return { data, issues, profile: null, text };
}

export function profileEditRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const { declarations, inventory, boot, config } = deps;
  const fileOf = (name: string) => declarations.profileFile(checkProfileName(name));

  // The draft back as data and as YAML too: the editor's form and YAML tab stay in step
  // through the server's own parser and writer (api-client DraftCheck).
  app.post<{ Body: DraftBody }>('/profiles/validate', async (request) => {
    const { issues, data, text } = checkDraft(request.body ?? {});
    const object =
      data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
    return { ok: issues.length === 0, issues, data: object, yaml: text };
  });

  app.get<{ Params: { name: string } }>('/profiles/:name/source', async (request, reply) => {
    const file = fileOf(request.params.name);
    if (!existsSync(file)) throw new KindlingError('PROFILE_UNKNOWN', `there is no profile "${request.params.name}"`);
    reply.type('text/yaml; charset=utf-8');
    return fs.readFile(file, 'utf8');
  });

  app.put<{ Params: { name: string }; Body: DraftBody }>('/profiles/:name', async (request) => {
    const name = checkProfileName(request.params.name);
    const { issues, text } = checkDraft(request.body ?? {});
    if (issues.length > 0) {
      const problems = issues.map(
        (i) => `profiles/${name}.yaml: ${i.path.length ? `key "${i.path.join('.')}"` : 'top level'}: ${i.message}`,
      );
      throw new KindlingError('PROFILE_INVALID', problems.join('\n'), { issues, problems });
    }
    const { file, created } = await declarations.writeProfile(name, text);
    request.log.info({ profile: name, created }, created ? 'profile created' : 'profile changed');
    return {
      profile: declarations.profiles.get(name) ?? null,
      created,
      problems: declarations.problems.filter((p) => p.file === file),
    };
  });

  app.delete<{ Params: { name: string } }>('/profiles/:name', async (request) => {
    const name = checkProfileName(request.params.name);
    await declarations.removeProfile(name, () => {
      const users = inventory
        .list()
        .filter((m) => m.profile === name)
        .map((m) => m.name ?? m.mac);
      if (users.length > 0)
        throw new KindlingError(
          'REQUEST_INVALID',
          `profile "${name}" is used by ${users.join(', ')}; assign them another profile first`,
          { machines: users },
        );
    });
    request.log.info({ profile: name }, 'profile deleted');
    return { deleted: name };
  });

  // What a machine would get from an unsaved draft, token and update key masked: the editor's preview.
  app.post<{ Body: DraftBody & { mac?: unknown; as?: unknown; name?: unknown } }>(
    '/profiles/preview',
    async (request, reply) => {
      const body = request.body ?? {};
      const { issues, profile: spec } = checkDraft(body);
      if (!spec)
        throw new KindlingError('PROFILE_INVALID', `the draft is not a valid profile: ${describeDraftIssues(issues)}`, {
          issues,
        });
      const profile: Profile = {
        name: typeof body.name === 'string' && profileNamePattern.test(body.name) ? body.name : 'draft',
        ...spec,
      };
      const machine = inventory.require(macParam(typeof body.mac === 'string' ? body.mac : undefined));
      const as = body.as ?? 'ipxe';
      const serverUrl = serverUrlFor(request, config);
      reply.type('text/plain; charset=utf-8');
      // The machine's own plan and config path with the draft in place of its profile.
      if (as === 'ipxe') return renderBootPlan(boot.plan(machine, { serverUrl, draft: profile }));
      if (as !== 'ignition' && as !== 'cloud-config')
        throw new KindlingError(
          'REQUEST_INVALID',
          `as must be ipxe, ignition or cloud-config, found "${String(as).slice(0, 20)}"`,
        );
      // The preview shows the target config unless the install phase is asked for and exists.
      const asked = (body as { phase?: unknown }).phase;
      const phase = profile.mode === 'install' && asked === 'install' ? 'install' : 'target';
      const { config: rendered } = boot.renderConfig(machine, {
        serverUrl,
        draft: profile,
        phase,
        requestIp: machine.facts.lastIp,
        token: () => maskedToken,
        updateKey: maskedToken,
      });
      reply.type(rendered.contentType);
      return rendered.body;
    },
  );
}

const describeDraftIssues = (issues: DraftIssue[]) =>
  issues.map((i) => `${i.path.join('.') || 'top level'}: ${i.message}`).join('; ');
