import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { IdParams, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { RunModelList } from './mlflow.run-models.schemas.js';
import { runModels } from './mlflow.run-models.service.js';

/** The models a run logged (the Models section of its page); viewers and up. */
export function runModelsRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/experiments/:id/models',
      {
        schema: {
          tags: ['files'],
          description:
            'The run’s models: MLflow logged models it made and directories of its files holding an MLmodel (flavors, files, size, the URI that loads it), and the registered versions made from it.',
          params: IdParams,
          response: responses({ 200: RunModelList }),
        },
      },
      async (request) => runModels(ctx, requireCaller(request), request.params.id),
    );
  };
}
