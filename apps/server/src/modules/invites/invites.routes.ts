import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { IdParams, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import {
  CreateInviteBody,
  CreatedInvite,
  Invite,
  InviteList,
  InviteParams,
  InvitePreview,
  InviteTokenParams,
} from './invites.schemas.js';
import * as service from './invites.service.js';

/** Invite links: made, listed and revoked by a workspace's admins and owners; previewed by anyone holding one. */
export function invitesRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['workspaces'];
    app.post(
      '/workspaces/:id/invites',
      {
        schema: {
          tags,
          description:
            'Makes a single-use, expiring invite link (admins and owners, for a role up to their own). Signing up with it ' +
            '(`POST /api/auth/signup {…, invite}`) works even while signup is closed and joins this workspace. The token is shown once.',
          params: IdParams,
          body: CreateInviteBody,
          response: responses({ 201: CreatedInvite }),
        },
      },
      async (request, reply) =>
        reply.status(201).send(await service.createInvite(ctx, requireCaller(request), request.params.id, request.body)),
    );
    app.get(
      '/workspaces/:id/invites',
      {
        schema: {
          tags,
          description: "The workspace's invites, newest first, with their state.",
          params: IdParams,
          response: responses({ 200: InviteList }),
        },
      },
      async (request) => ({ invites: await service.listInvites(ctx, requireCaller(request), request.params.id) }),
    );
    app.delete(
      '/workspaces/:id/invites/:inviteId',
      { schema: { tags, description: 'Revokes an invite at once.', params: InviteParams, response: responses({ 200: Invite }) } },
      async (request) => service.revokeInvite(ctx, requireCaller(request), request.params.id, request.params.inviteId),
    );
    app.get(
      '/auth/invites/:token',
      {
        schema: {
          tags: ['auth'],
          security: [],
          description:
            'What an open invite link grants (for the signup page); used, revoked and expired links are a 400 saying which.',
          params: InviteTokenParams,
          response: responses({ 200: InvitePreview }),
        },
      },
      async (request) => service.previewInvite(ctx, request.params.token, request.ip),
    );
  };
}
