// Server-side tools (issue 18): the tools, the text format of tool calls, and running one call.
export { builtinTools, toolFunctions, runToolCall, DEFAULT_RUN_LIMITS, type Tool, type ToolDeps, type ToolContext, type ToolOutcome, type RunLimits, type SearchHistory, type HistoryHit, type SearchDocuments, type DocumentHit, renderDocumentHits } from './registry.ts';
export { parseToolCalls, hasToolCallMarkup, renderToolsSystemPrompt, renderToolCall, renderToolResponses, type ParsedToolCall, type ParsedOutput, type ToolFunction } from '../../schemas/tool-call-format.ts';
export { calculate, evaluate } from './calculator.ts';
export { convert } from './units.ts';
export { currentDateTime } from './datetime.ts';
export { demandsCall, selectTools, type ToolSelection } from './selection.ts';
export { afterRoundConstraint, continuationConstraint, MAX_TOOL_ROUNDS, toolCallConstraint, toolCallConstraintOf } from './constraint.ts';
export { Rational, ArithmeticError } from './rational.ts';
