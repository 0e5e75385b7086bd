import { Type } from '@sinclair/typebox';

export const Health = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { description: 'Same as database' }),
  features: Type.Array(Type.String(), {
    description: 'Optional capabilities clients may use, e.g. "metrics.f64-columns" (binary batch columns)',
  }),
});
