import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { AnalysisCache } from './analysis.cache.js';
import { ProviderCallLimiter } from './analysis.limiter.js';
import { AnalysisBody, AnalysisQuery, AnalysisResponse } from './analysis.schemas.js';
import { analyzeExperiment } from './analysis.service.js';

export function analysisRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  // One cache and one provider-call budget per app: built here, with the app, never at module level.
  const state = { cache: new AnalysisCache(), limiter: new ProviderCallLimiter(ctx.config.ai.callsPerHour) };
  return async (app) => {
    const tags = ['analysis'];
    const description =
      'Analysis of an experiment: summary, findings (metric + step range) and per-hyperparameter recommendations, ' +
      'from the built-in analyzer or the configured LLM provider (with fallback to the built-in result and a `note`).';
    app.get(
      '/ai/analysis',
      { schema: { tags, description, querystring: AnalysisQuery, response: responses({ 200: AnalysisResponse }) } },
      async (request) => analyzeExperiment(ctx, requireCaller(request), state, request.query),
    );
    app.post(
      '/ai/analysis',
      {
        config: { readsOnly: true },
        schema: { tags, description, body: AnalysisBody, response: responses({ 200: AnalysisResponse }) },
      },
      async (request) => analyzeExperiment(ctx, requireCaller(request), state, request.body),
    );
  };
}
