// What a fake sandbox does wrong. Transport behaviours change how the control
// socket answers Metrics.Export; lies change what it says; create-time
// behaviours change the state file and can only be chosen before start().
// `event-*` behaviours do the same to containerManager.Event only.
import { EVENT_LIES, type EventLie, isEventLie } from './events/lies.js';
import { isLie, LIES, type LieName } from './metrics/lies.js';

export const TRANSPORT_BEHAVIOURS = [
  'slow',
  'stall-accept',
  'no-answer',
  'half-json',
  'drip',
  'garbage',
  'endless',
  'huge',
  'error-reply',
] as const;
export const CREATE_TIME_BEHAVIOURS = ['wrong-address', 'no-metric-server', 'booting'] as const;
export const EVENT_TRANSPORT_BEHAVIOURS = ['event-stall', 'event-garbage', 'event-huge'] as const;
export const EVENT_BEHAVIOURS = [...EVENT_TRANSPORT_BEHAVIOURS, ...EVENT_LIES] as const;

export type TransportBehaviour = (typeof TRANSPORT_BEHAVIOURS)[number];
export type CreateTimeBehaviour = (typeof CREATE_TIME_BEHAVIOURS)[number];
export type EventTransportBehaviour = (typeof EVENT_TRANSPORT_BEHAVIOURS)[number];
export type EventBehaviour = EventTransportBehaviour | EventLie;
export type BehaviourName = 'honest' | 'flapping' | TransportBehaviour | CreateTimeBehaviour | LieName | EventBehaviour;

export const BEHAVIOUR_NAMES: readonly BehaviourName[] = [
  'honest',
  'flapping',
  ...TRANSPORT_BEHAVIOURS,
  ...CREATE_TIME_BEHAVIOURS,
  ...LIES,
  ...EVENT_BEHAVIOURS,
];

export interface Behaviour {
  readonly name: BehaviourName;
  /**
   * slow: delay in ms (default 2000); drip: ms per byte (default 1000); huge, event-huge: reply
   * size in bytes (default 200 MB); booting: lock hold time in ms (default: until stopped).
   */
  readonly param?: number;
}

export const DEFAULT_PARAMS: Partial<Record<BehaviourName, number>> = {
  slow: 2000,
  drip: 1000,
  huge: 200 * 1024 * 1024,
  'event-huge': 200 * 1024 * 1024,
};

export class BehaviourError extends Error {
  override name = 'BehaviourError';
}

export function isBehaviourName(s: string): s is BehaviourName {
  return (BEHAVIOUR_NAMES as readonly string[]).includes(s);
}

export function isCreateTime(name: BehaviourName): name is CreateTimeBehaviour {
  return (CREATE_TIME_BEHAVIOURS as readonly string[]).includes(name);
}

export function lieOf(name: BehaviourName): LieName | null {
  return isLie(name) ? name : null;
}

export function eventLieOf(name: BehaviourName): EventLie | null {
  return isEventLie(name) ? name : null;
}

export function normaliseBehaviour(b: BehaviourName | Behaviour): Behaviour {
  const v = typeof b === 'string' ? { name: b } : b;
  if (!isBehaviourName(v.name)) {
    throw new BehaviourError(`unknown behaviour "${String(v.name)}"; known: ${BEHAVIOUR_NAMES.join(', ')}`);
  }
  if (v.param !== undefined && !(Number.isFinite(v.param) && v.param >= 0)) {
    throw new BehaviourError(`behaviour ${v.name}: parameter must be a non-negative number, got ${v.param}`);
  }
  return v;
}

export function paramOf(b: Behaviour): number | undefined {
  return b.param ?? DEFAULT_PARAMS[b.name];
}
