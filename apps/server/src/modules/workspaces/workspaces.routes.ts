import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { IdParams, Success, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import {
  AddMemberBody,
  CreateWorkspaceBody,
  Member,
  MemberParams,
  UpdateMemberBody,
  UpdateWorkspaceBody,
  Workspace,
} from './workspaces.schemas.js';
import * as service from './workspaces.service.js';

export function workspacesRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['workspaces'];
    app.post(
      '/workspaces',
      { schema: { tags, body: CreateWorkspaceBody, response: responses({ 201: Workspace }) } },
      async (request, reply) => reply.status(201).send(await service.createWorkspace(ctx, requireCaller(request), request.body)),
    );
    app.get(
      '/workspaces',
      { schema: { tags, response: responses({ 200: Type.Object({ workspaces: Type.Array(Workspace) }) }) } },
      async (request) => ({
        workspaces: await service.listWorkspaces(ctx, requireCaller(request)),
      }),
    );
    app.get('/workspaces/:id', { schema: { tags, params: IdParams, response: responses({ 200: Workspace }) } }, async (request) =>
      service.getWorkspace(ctx, requireCaller(request), request.params.id),
    );
    app.put(
      '/workspaces/:id',
      { schema: { tags, params: IdParams, body: UpdateWorkspaceBody, response: responses({ 200: Workspace }) } },
      async (request) => service.updateWorkspace(ctx, requireCaller(request), request.params.id, request.body),
    );
    app.delete(
      '/workspaces/:id',
      { schema: { tags, params: IdParams, response: responses({ 200: Success }) } },
      async (request) => {
        await service.deleteWorkspace(ctx, requireCaller(request), request.params.id);
        return { success: true as const };
      },
    );
    app.get(
      '/workspaces/:id/columns',
      {
        schema: {
          tags,
          description: 'Every hyperparameter key and metric name used by the workspace’s experiments.',
          params: IdParams,
          response: responses({
            200: Type.Object({ hyperparams: Type.Array(Type.String()), metrics: Type.Array(Type.String()) }),
          }),
        },
      },
      async (request) => service.workspaceColumns(ctx, requireCaller(request), request.params.id),
    );
    app.get(
      '/workspaces/:id/members',
      { schema: { tags, params: IdParams, response: responses({ 200: Type.Object({ members: Type.Array(Member) }) }) } },
      async (request) => ({ members: await service.listMembers(ctx, requireCaller(request), request.params.id) }),
    );
    app.post(
      '/workspaces/:id/members',
      { schema: { tags, params: IdParams, body: AddMemberBody, response: responses({ 201: Member }) } },
      async (request, reply) =>
        reply.status(201).send(await service.addMember(ctx, requireCaller(request), request.params.id, request.body)),
    );
    app.put(
      '/workspaces/:id/members/:userId',
      { schema: { tags, params: MemberParams, body: UpdateMemberBody, response: responses({ 200: Member }) } },
      async (request) =>
        service.changeMemberRole(ctx, requireCaller(request), request.params.id, request.params.userId, request.body.role),
    );
    app.delete(
      '/workspaces/:id/members/:userId',
      { schema: { tags, params: MemberParams, response: responses({ 200: Success }) } },
      async (request) => {
        await service.removeMember(ctx, requireCaller(request), request.params.id, request.params.userId);
        return { success: true as const };
      },
    );
  };
}
