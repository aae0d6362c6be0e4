import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { screenPassage, type PassageLookup } from '../inference/saga/retrieval-context.ts';
import { builtinTools, DEFAULT_RUN_LIMITS, type SearchDocuments, type SearchHistory, type Tool } from '../inference/tools/index.ts';
import { listConversations, messagesByConversation } from '../read-api/read-models.ts';
import type { RuntimeConfig } from '../schemas/runtime-config.ts';
import { DEFAULT_TOOLS, TenantToolPolicies, ToolName, toolsForTenant } from '../schemas/tools.ts';

// Composition of the server-side tools: which are on for a tenant (PARLEY_TOOLS,
// PARLEY_TENANT_TOOLS), search_history over the history read model and search_documents over the
// documents read model (bin/knowledge.ts).

// PARLEY_TENANT_TOOLS: JSON, or the path of a JSON file; checked whole at start (like PARLEY_TENANT_POLICY).
export function tenantTools(config: RuntimeConfig): TenantToolPolicies {
  const value = config.PARLEY_TENANT_TOOLS?.trim();
  if (!value) return {};
  let json: unknown;
  try {
    json = JSON.parse(value.startsWith('{') ? value : readFileSync(value, 'utf8'));
  } catch (error) {
    throw new Error(`PARLEY_TENANT_TOOLS must be JSON or the path of a JSON file: ${(error as Error).message}`);
  }
  const parsed = TenantToolPolicies.safeParse(json);
  if (!parsed.success) throw new Error(`invalid PARLEY_TENANT_TOOLS: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

// Does the model know tool calls? Its chat template (or tokenizer config) mentions them: a model
// trained without them would only lose context to a tools section it cannot use.
export function modelKnowsTools(modelDir: string): boolean {
  return ['chat_template.jinja', 'chat_template.json', 'tokenizer_config.json'].some((f) => {
    const file = path.join(modelDir, f);
    return existsSync(file) && /tool_call|\btools\b/.test(readFileSync(file, 'utf8'));
  });
}

// search_history: the caller's own conversations (tenant AND owner), through the read model's
// search (read-api/conversation-search.ts, which opens sealed text page by page).
export function historySearch(knex: Knex, keys: KeyStore | null): SearchHistory {
  return async ({ tenantId, ownerId, query, limit }) => {
    const actor = { userId: ownerId, tenantId, roles: ['user' as const] };
    const rows = (await listConversations(knex, actor, { first: limit, after: null, search: query }, keys)).slice(0, limit);
    const messages = await messagesByConversation(knex, rows.map((r) => r.id), keys);
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return rows.map((r, i) => {
      const hit = messages[i]!.find((m) => m.owner_id === ownerId && words.some((w) => m.content.toLowerCase().includes(w)));
      return { conversationId: r.id, title: r.title, snippet: hit ? hit.content.slice(0, 200) : '', updatedAt: new Date(r.updated_at).toISOString() };
    });
  };
}

// The tools a model folder was validated on: `parley.tools` in its config.json, set when the model
// ships from its golden scores (inference/model/README.md): a tool the model calls or reads back
// badly would answer worse than no tool. Absent (e.g. a Qwen2.5 export): the platform's defaults.
// A list naming an unknown tool stops the start, like a bad PARLEY_TENANT_TOOLS.
export function modelDefaultTools(modelDir: string): readonly ToolName[] {
  const file = path.join(modelDir, 'config.json');
  const listed = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { parley?: { tools?: unknown } }).parley?.tools : undefined;
  if (listed === undefined) return DEFAULT_TOOLS;
  const parsed = z.array(ToolName).safeParse(listed);
  if (!parsed.success) throw new Error(`${file}: parley.tools must list tool names (${ToolName.options.join(', ')}): ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

// The saga's tools option, or undefined when tools are off. `auto`: on when the model knows tool
// calls, with the tools it was validated on for tenants that name none; `on`: the platform's defaults.
export function sagaTools(config: RuntimeConfig, modelDir: string, knex: Knex, keys: KeyStore | null, documents?: { searchDocuments: SearchDocuments; passages: PassageLookup }) {
  if (config.PARLEY_TOOLS === 'off' || (config.PARLEY_TOOLS === 'auto' && !modelKnowsTools(modelDir))) return undefined;
  const policies = tenantTools(config);
  const defaults = config.PARLEY_TOOLS === 'auto' ? modelDefaultTools(modelDir) : DEFAULT_TOOLS;
  const all: Tool[] = builtinTools({ searchHistory: historySearch(knex, keys), ...(documents ? { searchDocuments: documents.searchDocuments, screenPassage } : {}) });
  const byTenant = new Map<string, Tool[]>();
  return {
    toolsFor: (tenantId: string) => {
      let tools = byTenant.get(tenantId);
      if (!tools) {
        const on = new Set(toolsForTenant(policies, tenantId, defaults));
        tools = all.filter((t) => on.has(t.name));
        if (byTenant.size < 10_000) byTenant.set(tenantId, tools);
      }
      return tools;
    },
    limits: { ...DEFAULT_RUN_LIMITS, timeoutMs: config.PARLEY_TOOL_TIMEOUT_MS },
    selection: config.PARLEY_TOOL_SELECTION,
    constrain: config.PARLEY_TOOL_CONSTRAINT === 'on',
    // a continuation shows the turn's retrieved passages again
    ...(documents ? { passages: documents.passages } : {}),
  };
}
