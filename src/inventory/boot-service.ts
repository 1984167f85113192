import { KindlingError } from '../errors.js';
import { renderInstallConfig, renderTargetConfig, type RenderContext, type RenderedConfig } from '../render/index.js';
import { bootPlan, type BootInput, type BootPlan, type BootRequest } from './boot-plan.js';
import type { ConfigPhase } from './callback-tokens.js';
import type { Inventory } from './inventory.js';
import { macHyphen } from './mac.js';
import type { Machine } from './machine-record.js';
import type { Profile } from './profile.js';

// Applies boot plans (boot-plan.ts) to the inventory: records the visit, makes the
// plan from one input builder, and moves the machine to the plan's next state. The
// boot route, the config route and both previews ask this service, so all of them
// see the same plan for the same machine (docs/architecture.md, "The path of one
// boot request").

export interface BootServiceOptions {
  inventory: Inventory;
  /** How long a waiting machine sleeps before asking again (boot.retrySeconds). */
  retrySeconds: number;
}

export interface PlanOptions {
  /** The base URL the machine reaches Kindling at (http/context.ts serverUrlFor). */
  serverUrl: string;
  /** What iPXE said in this request; without it, what the machine last said (previews, config fetches). */
  request?: BootRequest;
  /**
   * An unsaved profile in place of the assigned one (the editor's preview); a
   * discovered machine counts as assigned to it.
   */
  draft?: Profile;
}

/** One /ipxe request, as iPXE filled in its query (empty values are kept as sent, for the record). */
export interface BootVisit {
  mac: string;
  arch: string | null;
  platform: string | null;
  uuid: string | null;
  ip: string;
  serverUrl: string;
}

export interface ConfigOptions extends PlanOptions {
  /** The phase asked for (?phase=); the plan's config phase otherwise. */
  phase?: ConfigPhase | undefined;
  /** The address the config is rendered for when machines.yaml reserves none. */
  requestIp: string | null;
  /** The callback token to render for a phase: the machine's own, or a mask for previews. */
  token: (phase: ConfigPhase) => string;
  /** The update key update.conf carries: the machine's own (Inventory.updateKey), or a mask for previews. */
  updateKey: string;
}

export class BootService {
  private readonly inventory: Inventory;
  private readonly retrySeconds: number;

  constructor(options: BootServiceOptions) {
    this.inventory = options.inventory;
    this.retrySeconds = options.retrySeconds;
  }

  /** The plan's input for a machine as it is now: the one place it is assembled. */
  input(machine: Machine, options: PlanOptions): BootInput {
    const { profile, problem } = options.draft
      ? { profile: options.draft, problem: null }
      : this.inventory.profileOf(machine);
    const state = options.draft && machine.state === 'discovered' ? 'assigned' : machine.state;
    return {
      machine: { mac: machine.mac, name: machine.name, state },
      profile,
      profileProblem: problem,
      request: options.request ?? { arch: machine.facts.arch, platform: machine.facts.platform },
      serverUrl: options.serverUrl,
      retrySeconds: this.retrySeconds,
    };
  }

  /** What the machine would boot now; nothing is recorded (the machine page, `kindling render`). */
  plan(machine: Machine, options: PlanOptions): BootPlan {
    return bootPlan(this.input(machine, options));
  }

  /**
   * A machine asked /ipxe. The visit is recorded (a new MAC is discovered), the plan is
   * made, and its state change is durable before the plan is returned to be served.
   */
  async visit(visit: BootVisit): Promise<{ plan: BootPlan; machine: Machine }> {
    const { mac, arch, platform } = visit;
    const request = { arch: arch || null, platform: platform || null };
    let machine = await this.inventory.seen(mac, { ...request, uuid: visit.uuid || null, lastIp: visit.ip }, 'iPXE');
    const plan = this.plan(machine, { serverUrl: visit.serverUrl, request });
    if (plan.nextState && plan.nextState !== machine.state) {
      machine = await this.inventory.transition(mac, plan.nextState, plan.reason, { arch, platform });
    } else if (plan.kind !== 'wait') {
      // Wait loops repeat every few seconds: logged by the route, but not written to the event history.
      this.inventory.note(mac, 'boot', plan.reason, { kind: plan.kind, arch, platform });
    }
    return { plan, machine };
  }

  /**
   * The config a machine gets: in the phase asked for, else the plan's config phase. An
   * unassigned machine or a broken profile is refused with the reason, never half-rendered.
   */
  renderConfig(
    machine: Machine,
    options: ConfigOptions,
  ): { config: RenderedConfig; phase: ConfigPhase; profile: Profile } {
    const input = this.input(machine, options);
    const { profile, profileProblem } = input;
    if (profileProblem)
      throw new KindlingError('PROFILE_UNKNOWN', `machine ${machine.mac}: ${profileProblem}`, { mac: machine.mac });
    if (!profile)
      throw new KindlingError(
        'MACHINE_UNASSIGNED',
        `machine ${machine.mac} has no profile assigned, so there is no config for it yet`,
        { mac: machine.mac },
      );
    const phase: ConfigPhase = options.phase ?? bootPlan(input).configPhase ?? 'target';
    if (phase === 'install' && profile.mode !== 'install')
      throw new KindlingError('REQUEST_INVALID', `profile ${profile.name} is a live profile; it has no install phase`, {
        profile: profile.name,
      });
    const ctx: RenderContext = {
      mac: machine.mac,
      name: machine.name ?? macHyphen(machine.mac),
      ip: machine.reservedIp ?? options.requestIp,
      serverUrl: options.serverUrl,
      token: options.token(phase),
      updateKey: options.updateKey,
      vars: machine.vars,
    };
    const config = phase === 'install' ? renderInstallConfig(profile, ctx) : renderTargetConfig(profile, ctx);
    return { config, phase, profile };
  }
}
