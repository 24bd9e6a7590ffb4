// A server's connection pool shared by worker threads: each request takes a Connection
// (pre-initialised with its buffers, reset on return) from a ThreadSafePool and returns
// it when its handle goes out of scope. When all connections are busy the worker backs
// off and retries, instead of opening more. Exits non-zero if a connection was lost or
// handed to two requests.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "fastpool/fastpool.hpp"

struct Connection {
  static inline std::atomic<int> opened{0};
  int id;
  std::string send_buffer;
  std::atomic<bool> busy{false};
  long served = 0;

  Connection() : id(opened.fetch_add(1)) { send_buffer.reserve(4096); }  // "expensive"
  void on_acquire() {
    if (busy.exchange(true)) std::abort();  // handed out twice
  }
  void on_release() { busy.store(false); }
};

int main() {
  auto config = fastpool::PoolConfig<Connection>::builder()
                    .capacity(8)
                    .alignment(64)  // connections used by different threads: own cache lines
                    .pre_initialize(true)
                    .initializer([] { return Connection(); })
                    .reset([](Connection& c) { c.send_buffer.clear(); })
                    .build();
  fastpool::ThreadSafePool<Connection> pool(config);

  std::atomic<long> requests{0}, waits{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w)
    workers.emplace_back([&, w] {
      for (int r = 0; r < 20000; ++r) {
        auto conn = pool.try_allocate();
        while (!conn) {
          waits.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
          conn = pool.try_allocate();
        }
        conn->send_buffer.append("GET /item/").append(std::to_string(w * 100000 + r));
        ++conn->served;
        requests.fetch_add(1, std::memory_order_relaxed);
      }  // the connection goes back here
    });
  for (auto& t : workers) t.join();

  std::printf("requests %ld on %d connections, %ld waits; %s\n", requests.load(),
              Connection::opened.load(), waits.load(), pool.statistics().to_string().c_str());
  long served = 0;
  std::vector<fastpool::OwnedHandle<Connection>> every;
  for (int i = 0; i < 8; ++i) {
    every.push_back(pool.allocate());
    served += every.back()->served;
    if (every.back()->send_buffer.capacity() < 4096) return 1;  // reset kept the buffer
  }
  return requests.load() == 120000 && served == 120000 && Connection::opened.load() == 8 ? 0 : 1;
}
