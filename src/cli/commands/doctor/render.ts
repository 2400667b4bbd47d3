/** What `doctor` prints: one line per check with ✔ or ✘ and the fix, or one JSON object. Pure. */
import type { DoctorCheck } from './checks.js';

interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export function renderDoctorLine(check: DoctorCheck): string {
  return `${check.ok ? '✔' : '✘'} ${check.name}: ${check.summary}${check.ok || check.fix === undefined ? '' : ` — fix: ${check.fix}`}`;
}

export function renderDoctorJson(checks: DoctorCheck[]): DoctorReport {
  return { ok: checks.every((check) => check.ok), checks };
}
