import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { IsoDate, Success, Uuid, responses } from '../../lib/schemas.js';
import * as service from './auth.service.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy.js';
import { SESSION_COOKIE, assertSameOrigin, requireCaller } from './caller.hook.js';

const Credentials = Type.Object(
  { email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false },
);
/** Signup states the rules the service enforces, so the published contract is the real one. */
const SignupCredentials = Type.Object(
  {
    email: Type.String({ maxLength: 320, pattern: '^\\s*[^\\s@]+@[^\\s@]+\\s*$', description: 'an email address' }),
    password: Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);
/** Public routes: no credentials needed (`security: []` in the OpenAPI document). */
const PUBLIC: { security: [] } = { security: [] };
const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  defaultWorkspaceId: Type.Union([Uuid, Type.Null()]),
  createdAt: IsoDate,
});
const UserResponse = Type.Object({ user: User });

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
        const user = await service.createUser(ctx, request.body, 'http');
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
          response: responses({ 200: Type.Object({ hasUsers: Type.Boolean(), signupOpen: Type.Boolean() }) }),
        },
      },
      async () => service.setupState(ctx),
    );
  };
}
