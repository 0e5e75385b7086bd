import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { IdParams, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { AliasBody, AliasParams, RegisteredModelDto, RegisteredModelList } from './mlflow.registry.tora.schemas.js';
import { listWorkspaceModels, setWorkspaceModelAlias } from './mlflow.registry.tora.service.js';

/** Tora's routes to the registered models of a workspace (the web app's Models page). */
export function registryRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['workspaces'];
    app.get(
      '/workspaces/:id/models',
      {
        schema: {
          tags,
          description:
            "The workspace's registered models (MLflow's model registry), by name, each with its versions newest first.",
          params: IdParams,
          response: responses({ 200: RegisteredModelList }),
        },
      },
      async (request) => listWorkspaceModels(ctx, requireCaller(request), request.params.id),
    );
    app.put(
      '/workspaces/:id/models/:name/aliases/:alias',
      {
        schema: {
          tags,
          description: 'Points an alias (`models:/<name>@<alias>`) at a version; editors only.',
          params: AliasParams,
          body: AliasBody,
          response: responses({ 200: RegisteredModelDto }),
        },
      },
      async (request) => {
        const { id, name, alias } = request.params;
        return setWorkspaceModelAlias(ctx, requireCaller(request), {
          workspaceId: id,
          name,
          alias,
          version: request.body.version,
        });
      },
    );
    app.delete(
      '/workspaces/:id/models/:name/aliases/:alias',
      {
        schema: {
          tags,
          description: 'Removes an alias; editors only.',
          params: AliasParams,
          response: responses({ 200: RegisteredModelDto }),
        },
      },
      async (request) => {
        const { id, name, alias } = request.params;
        return setWorkspaceModelAlias(ctx, requireCaller(request), { workspaceId: id, name, alias, version: null });
      },
    );
  };
}
