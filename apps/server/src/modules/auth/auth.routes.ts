import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { Success, responses } from '../../lib/schemas.js';
import * as service from './auth.service.js';
import { Credentials, SetupState, SignupCredentials, UserResponse } from './auth.schemas.js';
import { SESSION_COOKIE, assertSameOrigin, requireCaller } from './caller.hook.js';

/** Public routes: no credentials needed (`security: []` in the OpenAPI document). */
const PUBLIC: { security: [] } = { security: [] };

export function authRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  async function setCookie(reply: FastifyReply, userId: string, secure: boolean): Promise<void> {
    const session = await service.startSession(ctx, userId);
    reply.setCookie(SESSION_COOKIE, session.token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure,
      expires: new Date(session.expiresAt),
    });
  }

  return async (app) => {
    app.post(
      '/auth/signup',
      { schema: { tags: ['auth'], ...PUBLIC, body: SignupCredentials, response: responses({ 201: UserResponse }) } },
      async (request, reply) => {
        if (request.headers.origin) assertSameOrigin(ctx, request);
        const user = await service.createUser(ctx, request.body, 'http', request.ip);
        await setCookie(reply, user.id, request.protocol === 'https');
        return reply.status(201).send({ user });
      },
    );

    app.post(
      '/auth/login',
      { schema: { tags: ['auth'], ...PUBLIC, body: Credentials, response: responses({ 200: UserResponse }) } },
      async (request, reply) => {
        if (request.headers.origin) assertSameOrigin(ctx, request);
        const user = await service.login(ctx, request.body, request.ip);
        await setCookie(reply, user.id, request.protocol === 'https');
        return { user };
      },
    );

    app.post(
      '/auth/logout',
      { schema: { tags: ['auth'], ...PUBLIC, response: responses({ 200: Success }) } },
      async (request, reply) => {
        await service.logout(ctx, request.caller?.sessionId);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { success: true as const };
      },
    );

    app.get('/auth/me', { schema: { tags: ['auth'], response: responses({ 200: UserResponse }) } }, async (request) => {
      const caller = requireCaller(request);
      return { user: await service.me(ctx, caller.userId) };
    });

    app.get(
      '/auth/setup',
      {
        schema: {
          tags: ['auth'],
          ...PUBLIC,
          description: 'Whether the server has users yet and whether signup is open (for the first-run screen).',
          response: responses({ 200: SetupState }),
        },
      },
      async () => service.setupState(ctx),
    );
  };
}
