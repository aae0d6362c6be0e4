import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { screenPassage, type PassageLookup } from '../inference/saga/retrieval-context.ts';
import { builtinTools, DEFAULT_RUN_LIMITS, type SearchDocuments, type SearchHistory, type Tool } from '../inference/tools/index.ts';
import { listConversations, messagesByConversation } from '../read-api/read-models.ts';
import type { RuntimeConfig } from '../schemas/runtime-config.ts';
import { TenantToolPolicies, toolsForTenant } from '../schemas/tools.ts';

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

// The saga's tools option, or undefined when tools are off.
export function sagaTools(config: RuntimeConfig, modelDir: string, knex: Knex, keys: KeyStore | null, documents?: { searchDocuments: SearchDocuments; passages: PassageLookup }) {
  if (config.PARLEY_TOOLS === 'off' || (config.PARLEY_TOOLS === 'auto' && !modelKnowsTools(modelDir))) return undefined;
  const policies = tenantTools(config);
  const all: Tool[] = builtinTools({ searchHistory: historySearch(knex, keys), ...(documents ? { searchDocuments: documents.searchDocuments, screenPassage } : {}) });
  const byTenant = new Map<string, Tool[]>();
  return {
    toolsFor: (tenantId: string) => {
      let tools = byTenant.get(tenantId);
      if (!tools) {
        const on = new Set(toolsForTenant(policies, tenantId));
        tools = all.filter((t) => on.has(t.name));
        if (byTenant.size < 10_000) byTenant.set(tenantId, tools);
      }
      return tools;
    },
    limits: { ...DEFAULT_RUN_LIMITS, timeoutMs: config.PARLEY_TOOL_TIMEOUT_MS },
    // a continuation shows the turn's retrieved passages again
    ...(documents ? { passages: documents.passages } : {}),
  };
}
