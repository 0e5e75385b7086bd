import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { IdParams, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { DatasetInputList } from './mlflow.datasets.schemas.js';
import { listDatasets } from './mlflow.datasets.service.js';

/** Tora's route to the datasets MLflow logged for a run (`mlflow.log_input`, autologging). */
export function datasetsRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/experiments/:id/datasets',
      {
        schema: {
          tags: ['experiments'],
          description: 'The datasets logged to this experiment through MLflow (runs/log-inputs), oldest first.',
          params: IdParams,
          response: responses({ 200: DatasetInputList }),
        },
      },
      async (request) => listDatasets(ctx, requireCaller(request), request.params.id),
    );
  };
}
