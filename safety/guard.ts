// The optional LLM-judge stage (issue 16, item 5): a guard model in the Llama Guard 3 format,
// consulted only for inputs the cheaper stages left in the uncertain band. This file holds what
// does not depend on how the model is run: the prompt, the parsing of its answer ("safe" /
// "unsafe\nS1,S9"), the mapping of its hazard categories onto Parley's, and the port the cascade
// calls. The engine-backed implementation lives in inference/guard (safety/ imports no inference
// code); bin/ wires it in when SAFETY_GUARD_MODEL_DIR is set.
import type { SafetyCategory } from '../schemas/safety.ts';

/** Llama Guard 3's hazard taxonomy (MLCommons), in its order and wording. */
export const GUARD_CATEGORIES: readonly { readonly code: string; readonly name: string; readonly parley: SafetyCategory | null }[] = [
  { code: 'S1', name: 'Violent Crimes', parley: 'dangerous' },
  { code: 'S2', name: 'Non-Violent Crimes', parley: 'fraud_scams' },
  { code: 'S3', name: 'Sex-Related Crimes', parley: 'sexual' },
  { code: 'S4', name: 'Child Sexual Exploitation', parley: 'sexual_minors' },
  { code: 'S5', name: 'Defamation', parley: 'harassment' },
  // Specialized advice (medical, legal, financial) is not a harm Parley blocks.
  { code: 'S6', name: 'Specialized Advice', parley: null },
  { code: 'S7', name: 'Privacy', parley: 'privacy' },
  // Intellectual property is out of the cascade's scope.
  { code: 'S8', name: 'Intellectual Property', parley: null },
  { code: 'S9', name: 'Indiscriminate Weapons', parley: 'dangerous' },
  { code: 'S10', name: 'Hate', parley: 'hate' },
  { code: 'S11', name: 'Suicide & Self-Harm', parley: 'self_harm' },
  { code: 'S12', name: 'Sexual Content', parley: 'sexual' },
  { code: 'S13', name: 'Elections', parley: 'misinformation' },
  { code: 'S14', name: 'Code Interpreter Abuse', parley: 'cyber' },
];

/**
 * The code a Parley category is taught as (the tiny test guard's training targets). Llama Guard 3
 * files weapons and cyber crimes under S2 and terrorism under S1; it has no harassment category,
 * S5 is the nearest. Parsing maps codes back with GUARD_CATEGORIES (S2 → fraud_scams), so a
 * judged category may differ from the one taught; any of them blocks under the default policy.
 */
export const GUARD_CODE_OF: Readonly<Partial<Record<SafetyCategory, string>>> = {
  dangerous: 'S1', violent_extremism: 'S1', fraud_scams: 'S2', weapons: 'S2', cyber: 'S2', sexual: 'S12',
  sexual_minors: 'S4', harassment: 'S5', privacy: 'S7', hate: 'S10', self_harm: 'S11', misinformation: 'S13',
};

/**
 * The Llama Guard 3 prompt for one user message (the text between the chat template's user header
 * and end of turn). A real Llama Guard 3 export renders this itself from its chat template; models
 * without such a template (Parley's tiny test guard) get it as the user message.
 */
export function guardPrompt(userText: string): string {
  const categories = GUARD_CATEGORIES.map((c) => `${c.code}: ${c.name}.`).join('\n');
  return [
    "Task: Check if there is unsafe content in 'User' messages in conversations according our safety policy with the below categories.",
    '',
    '<BEGIN UNSAFE CONTENT CATEGORIES>',
    categories,
    '<END UNSAFE CONTENT CATEGORIES>',
    '',
    '<BEGIN CONVERSATION>',
    '',
    `User: ${userText}`,
    '',
    '<END CONVERSATION>',
    '',
    'Provide your safety assessment for ONLY THE LAST User message in the above conversation:',
    " - First line must read 'safe' or 'unsafe'.",
    ' - If unsafe, a second line must include a comma-separated list of violated categories.',
  ].join('\n');
}

export type GuardVerdict =
  | { readonly safe: true }
  | { readonly safe: false; readonly codes: readonly string[]; readonly categories: readonly SafetyCategory[] };

/**
 * Parses a guard model's answer. "safe" → safe; "unsafe" then a line of codes → unsafe with the
 * codes and the Parley categories they map to. Anything else throws: a judge that answers off
 * format has not judged (the cascade records a failure and keeps the cheaper stages' verdict).
 */
export function parseGuardOutput(output: string): GuardVerdict {
  const lines = output.trim().split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const first = lines[0]?.toLowerCase();
  if (first === 'safe') return { safe: true };
  if (first !== 'unsafe') throw new Error(`guard model answered off format: ${JSON.stringify(output.slice(0, 80))}`);
  const codes = [...new Set((lines[1] ?? '').toUpperCase().match(/S\d{1,2}\b/g) ?? [])];
  const categories = [...new Set(codes.map((code) => GUARD_CATEGORIES.find((c) => c.code === code)?.parley).filter((c): c is SafetyCategory => !!c))];
  return { safe: false, codes, categories };
}

/** The port the cascade consults (implemented in inference/guard with Parley's engine). */
export interface GuardJudge {
  readonly id: string;
  judge(text: string, signal?: AbortSignal): Promise<GuardVerdict>;
}
