import { Type } from '@sinclair/typebox';
import { ACCOUNT_LIMITS, INVITE_LIMITS } from '../../lib/limits.js';
import { IsoDate, RoleSchema, Uuid } from '../../lib/schemas.js';

export const InviteStatus = Type.Union([
  Type.Literal('open'),
  Type.Literal('used'),
  Type.Literal('revoked'),
  Type.Literal('expired'),
]);

export const Invite = Type.Object({
  id: Uuid,
  role: RoleSchema,
  email: Type.Union([Type.String(), Type.Null()], { description: 'Only this address may use the link; null: anyone with it' }),
  status: InviteStatus,
  createdAt: IsoDate,
  expiresAt: IsoDate,
  usedAt: Type.Union([IsoDate, Type.Null()]),
  usedBy: Type.Union([Type.String(), Type.Null()], { description: 'The address that signed up with it' }),
});
export const InviteList = Type.Object({ invites: Type.Array(Invite) });

export const CreateInviteBody = Type.Object(
  {
    role: RoleSchema,
    email: Type.Optional(
      Type.String({
        maxLength: ACCOUNT_LIMITS.emailLength,
        pattern: '^\\s*[^\\s@]+@[^\\s@]+\\s*$',
        description: 'an email address: only it may sign up with the link',
      }),
    ),
    expiresInDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: INVITE_LIMITS.maxDays,
        description: `Days until the link expires (default ${INVITE_LIMITS.defaultDays})`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const CreatedInvite = Type.Object({
  invite: Invite,
  token: Type.String({ description: 'Shown once: only its hash is stored' }),
  path: Type.String({ description: 'The signup page with the token, e.g. /signup?invite=…' }),
});

export const InviteParams = Type.Object({ id: Uuid, inviteId: Uuid });

export const InviteToken = Type.String({ minLength: 1, maxLength: 200 });
export const InviteTokenParams = Type.Object({ token: InviteToken });

/** What the signup page shows about a link before the account exists. */
export const InvitePreview = Type.Object({
  workspaceId: Uuid,
  workspaceName: Type.String(),
  role: RoleSchema,
  email: Type.Union([Type.String(), Type.Null()]),
  expiresAt: IsoDate,
});
