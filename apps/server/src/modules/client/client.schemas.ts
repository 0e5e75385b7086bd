import { Type } from '@sinclair/typebox';

export const ClientInfo = Type.Object({
  name: Type.String({ description: 'Distribution name, e.g. tora-client (the module is still `import tora`)' }),
  version: Type.String(),
  file: Type.String({ description: 'Wheel file name' }),
  url: Type.String({ description: 'Download URL, on TORA_PUBLIC_URL when set' }),
  install: Type.String({ description: 'The pip command, e.g. pip install http://host:8080/api/client/….whl' }),
});

export const WheelParams = Type.Object({ file: Type.String({ maxLength: 100 }) }); // the router's path-parameter limit
