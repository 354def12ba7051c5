import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { documentCodecRoutes } from './routes/codec.js';
import { documentRoutes, type AnyRoute } from './routing.js';

/** The OpenAPI 3.1 document of a route table, built once. */
export function buildOpenApiDocument(routes: readonly AnyRoute[], serverUrl: string): unknown {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'API key (cfk_…)' });
  documentRoutes(registry, routes);
  // The codec server (/codec/decode, /codec/encode) is mounted apart from the route table, for its CORS preflight.
  documentCodecRoutes(registry);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'CertFlow', version: '1', description: "A certificate authority's order lifecycle, one Temporal workflow per order." },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
  });
}
