export { parseMac, tryParseMac, macHyphen } from './mac.js';
export {
  machineStates,
  canTransition,
  assertTransition,
  enterState,
  profileDrivenMove,
  type MachineState,
} from './lifecycle.js';
export { profileSchema, parseProfile, profileNamePattern, type Profile, type ProfileSpec } from './profile.js';
export { Declarations, type MachineDeclaration, type ConfigProblem } from './declarations.js';
export { Inventory, type InventoryOptions } from './inventory.js';
export {
  machineView,
  newRecord,
  type Machine,
  type MachineRecord,
  type MachineFacts,
  type InventoryEvent,
} from './machine-record.js';
export {
  bootPlan,
  configPhaseFor,
  firmwareOf,
  type BootPlan,
  type BootInput,
  type BootRequest,
  type BootKind,
} from './boot-plan.js';
export { BootService, type BootServiceOptions, type BootVisit, type PlanOptions } from './boot-service.js';
export { Arch, clientArch, firmwareOfClientArch, ipxeArchesFor, type ClientArch } from './architectures.js';
export { seedSampleConfig } from './sample.js';
