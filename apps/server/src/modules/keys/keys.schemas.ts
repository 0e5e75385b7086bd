import { Type } from '@sinclair/typebox';
import { ACCOUNT_LIMITS } from '../../lib/limits.js';
import { IsoDate, Uuid } from '../../lib/schemas.js';

/** `read`: GET requests (and read-only POSTs such as compare) only. */
const scope = (options: { description?: string } = {}) => Type.Union([Type.Literal('full'), Type.Literal('read')], options);

export const Key = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String(),
  createdAt: IsoDate,
  lastUsed: Type.Union([IsoDate, Type.Null()]),
  revoked: Type.Boolean(),
  scope: scope({ description: '`read`: GET requests and the read-only POSTs (compare, analysis) only; anything else is 403' }),
  expiresAt: Type.Union([IsoDate, Type.Null()], { description: 'After this the key is refused (401); null: never' }),
});

export const CreatedKey = Type.Intersect([
  Key,
  Type.Object({ key: Type.String({ description: 'The plaintext key, shown only in this response' }) }),
]);

export const CreateKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: ACCOUNT_LIMITS.keyNameLength, pattern: '\\S' }),
    scope: Type.Optional(scope()),
    expiresInDays: Type.Optional(
      Type.Integer({ minimum: 1, maximum: ACCOUNT_LIMITS.keyMaxDays, description: 'Default: never expires' }),
    ),
  },
  { additionalProperties: false },
);

export const KeyList = Type.Object({ keys: Type.Array(Key) });
