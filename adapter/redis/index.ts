// tether-ws/server/redis: the Redis session store for tether-ws/server (docs/server.md, docs/protocol.md §9).
// Public exports only. `redis` (node-redis) is an optional peer dependency of this entry alone: the
// store takes a client the application created, and imports nothing from it at run time.
export {
  createRedisStore,
  type RedisClusterClient,
  type RedisCommandClient,
  type RedisSingleClient,
  type RedisStoreOptions,
} from './store.js';
