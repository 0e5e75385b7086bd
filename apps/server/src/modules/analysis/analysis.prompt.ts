import { Value } from '@sinclair/typebox/value';
import type { BuiltinAnalysis } from './analyzer.js';
import type { Curve } from './analyzer.types.js';
import type { Prompt } from './analysis.providers.js';
import { LlmAnswer, type LlmAnswerT } from './analysis.schemas.js';
import { ANALYSIS_LIMITS } from '../../lib/limits.js';

/** Upper bound of the prompt, so a run with hundreds of metrics cannot make a huge (costly) request. */
const MAX_PROMPT_CHARS = ANALYSIS_LIMITS.promptChars;

const SYSTEM = `You are an ML training diagnostics assistant inside Tora, an experiment tracker.
Answer with ONE JSON object only, no prose around it, of this shape:
{"summary": string,
 "hyperparameter_recommendations": {"<hyperparameter>": {"recommendation": string, "importance_level": 1-5}},
 "findings": [{"kind": "nan_inf"|"divergence"|"spike"|"plateau"|"oscillation"|"overfitting"|"regression"|"best_step",
   "severity": "info"|"warning"|"critical", "metric": string, "steps": [from, to], "message": string}]}
Ground every statement in the data given; name the metric and step range of each finding.`;

const round = (v: number): number | string => (Number.isFinite(v) ? Number(v.toPrecision(4)) : String(v));

function downsample(c: Curve, points: number): [number, number | string][] {
  const n = c.steps.length;
  const stride = Math.max(1, Math.ceil(n / points));
  const out: [number, number | string][] = [];
  for (let i = 0; i < n; i += stride) out.push([c.steps[i]!, round(c.values[i]!)]);
  if (n > 0 && (n - 1) % stride !== 0) out.push([c.steps[n - 1]!, round(c.values[n - 1]!)]);
  return out;
}

/** The prompt: metadata, built-in findings and downsampled curves, shrunk until it fits MAX_PROMPT_CHARS. */
export function buildPrompt(o: {
  experiment: { name: string; description: string; status: string; hyperparams: Record<string, unknown> };
  reference: { name: string } | null;
  builtin: BuiltinAnalysis;
  curves: readonly Curve[];
  question?: string;
}): Prompt {
  const findings = o.builtin.findings.slice(0, 40).map(({ kind, severity, metric, steps, message }) => ({
    kind,
    severity,
    metric,
    steps,
    message: message.slice(0, 300),
  }));
  for (let points = 60; ; points = Math.floor(points / 2)) {
    const curves = points >= 4 ? Object.fromEntries(o.curves.slice(0, 30).map((c) => [c.name, downsample(c, points)])) : {};
    const user = JSON.stringify({
      experiment: { ...o.experiment, description: o.experiment.description.slice(0, 1000) },
      reference: o.reference?.name ?? null,
      builtin_summary: o.builtin.summary.slice(0, 2000),
      builtin_findings: findings,
      builtin_hyperparameter_recommendations: o.builtin.hyperparameter_recommendations,
      curves_step_value: curves,
      question: o.question ?? null,
    });
    if (user.length <= MAX_PROMPT_CHARS || points < 4) return { system: SYSTEM, user: user.slice(0, MAX_PROMPT_CHARS) };
  }
}

/** Parses and validates a provider's text; tolerates a ```json fence. Throws with the reason. */
export function parseAnswer(text: string): LlmAnswerT {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  let value: unknown;
  try {
    value = JSON.parse((fenced?.[1] ?? text).trim());
  } catch {
    throw new Error('the answer is not valid JSON');
  }
  if (!Value.Check(LlmAnswer, value)) {
    const first = [...Value.Errors(LlmAnswer, value)][0];
    throw new Error(`the answer does not match the schema (${first ? `${first.path || '/'}: ${first.message}` : 'invalid'})`);
  }
  return value;
}
