import { Type } from '@sinclair/typebox';
import { ACCOUNT_LIMITS } from '../../lib/limits.js';
import { IsoDate, Uuid } from '../../lib/schemas.js';

export const Credentials = Type.Object(
  {
    email: Type.String({ maxLength: ACCOUNT_LIMITS.emailLength }),
    password: Type.String({ maxLength: ACCOUNT_LIMITS.maxPasswordLength }),
  },
  { additionalProperties: false },
);

/** Signup states the rules the service enforces, so the published contract is the real one. */
export const SignupCredentials = Type.Object(
  {
    email: Type.String({
      maxLength: ACCOUNT_LIMITS.emailLength,
      pattern: '^\\s*[^\\s@]+@[^\\s@]+\\s*$',
      description: 'an email address',
    }),
    password: Type.String({ minLength: ACCOUNT_LIMITS.minPasswordLength, maxLength: ACCOUNT_LIMITS.maxPasswordLength }),
    invite: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "An invite link's token: signs up even while signup is closed and joins its workspace",
      }),
    ),
  },
  { additionalProperties: false },
);

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  defaultWorkspaceId: Type.Union([Uuid, Type.Null()]),
  createdAt: IsoDate,
});
export const UserResponse = Type.Object({ user: User });

export const SetupState = Type.Object({ hasUsers: Type.Boolean(), signupOpen: Type.Boolean() });
