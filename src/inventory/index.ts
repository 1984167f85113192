export { parseMac, tryParseMac, macHyphen } from './mac.js';
export { machineStates, canTransition, assertTransition, type MachineState } from './lifecycle.js';
export { profileSchema, parseProfile, profileNamePattern, type Profile, type ProfileSpec } from './profile.js';
export { Declarations, type MachineDeclaration, type ConfigProblem } from './declarations.js';
export {
  Inventory,
  type Machine,
  type MachineRecord,
  type MachineFacts,
  type InventoryEvent,
  type InventoryOptions,
} from './inventory.js';
export {
  bootDecision,
  firmwareOf,
  type BootDecision,
  type BootInput,
  type BootRequest,
  type BootKind,
} from './boot-decision.js';
export { seedSampleConfig } from './sample.js';
