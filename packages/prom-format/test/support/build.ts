// Small builders so tests state data points in one line.
import type {
  Data,
  Histogram,
  Int64,
  Labels,
  Snapshot,
  SnapshotExport,
  Timestamp,
  WireNumber,
} from '../../src/index.js';
import { floatNumber, intNumber, parseRfc3339, pointsOf } from '../../src/index.js';

export const T0: Timestamp = parseRfc3339('2024-05-20T18:28:42.123456789Z');
export const T0_MS = 1716229722123;

export const int = (v: Int64): WireNumber => intNumber(v);
export const flt = (v: number): WireNumber => floatNumber(v);

export function point(name: string, type: number, value: WireNumber | undefined, labels: Labels = {}, help = ''): Data {
  return value === undefined
    ? { metric: { name, type, help }, labels }
    : { metric: { name, type, help }, labels, number: value };
}
export const gauge = (name: string, value: WireNumber, labels: Labels = {}, help = ''): Data =>
  point(name, 1, value, labels, help);
export const counter = (name: string, value: WireNumber, labels: Labels = {}, help = ''): Data =>
  point(name, 2, value, labels, help);

export function histogram(name: string, h: Histogram, labels: Labels = {}, help = ''): Data {
  return { metric: { name, type: 3, help }, labels, histogramValue: h };
}

export function snap(data: Data[], when: Timestamp = T0): Snapshot {
  return { when, data };
}

export function exp(data: Data[], extraLabels: Labels = {}, exporterPrefix = '', when: Timestamp = T0): SnapshotExport {
  return { snapshot: pointsOf(snap(data, when)), exporterPrefix, extraLabels };
}
