// The `fastpool` command: runs a program with the preload library, and says what the
// runtime options are.
//
//   fastpool run [--secure] [--stats] [--option NAME=VALUE]... [--] PROGRAM [ARGS...]
//   fastpool options [--markdown]
//   fastpool --version | --help
//
// The library is found relative to this executable: FASTPOOL_LAUNCHER_LIBDIR (the
// install's libdir, relative to its bindir), else the executable's own folder (a build
// tree). It is put first in LD_PRELOAD, before whatever was there (less any fastpool
// preload library already in it).
//
// Exit status: the program's own once it runs; before that, as env(1) has it: 125 the
// launcher's own error, 126 the program cannot be run, 127 it is not there.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "os/options.hpp"

#ifndef FASTPOOL_VERSION
#error "FASTPOOL_VERSION must be defined by the build"
#endif
#ifndef FASTPOOL_LAUNCHER_LIBDIR
#define FASTPOOL_LAUNCHER_LIBDIR "../lib"
#endif

namespace {

constexpr const char* kUsage =
    "usage: fastpool run [--secure] [--stats] [--option NAME=VALUE]... [--] PROGRAM [ARGS...]\n"
    "       fastpool options [--markdown]\n"
    "       fastpool --version\n"
    "\n"
    "  run        runs PROGRAM with fastpool as its malloc and operator new (LD_PRELOAD)\n"
    "  --secure   the hardened library (libfastpool_preload_secure.so)\n"
    "  --stats    print the statistics table at exit (FASTPOOL_SHOW_STATS=1)\n"
    "  --option   set a runtime option for PROGRAM: NAME is the variable, with or\n"
    "             without FASTPOOL_ (see `fastpool options`)\n"
    "  options    the runtime options, their defaults and the values in force here\n";

constexpr int kOwnError = 125;

[[noreturn]] void fail(const std::string& message, int code = kOwnError) {
  std::fprintf(stderr, "fastpool: %s\n", message.c_str());
  std::exit(code);
}

std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) fail("cannot find my own location (/proc/self/exe)");
  buf[n] = '\0';
  std::string path(buf);
  return path.substr(0, path.rfind('/'));
}

bool readable(const std::string& path) {
  return access(path.c_str(), R_OK) == 0;
}

std::string find_library(const char* name) {
  std::string dir = self_dir();
  std::vector<std::string> tried;
  for (const std::string& d : {dir + "/" FASTPOOL_LAUNCHER_LIBDIR, dir}) {
    std::string path = d + "/" + name;
    if (readable(path)) {
      char real[PATH_MAX];
      return realpath(path.c_str(), real) != nullptr ? std::string(real) : path;
    }
    tried.push_back(path);
  }
  std::string message = std::string("cannot find ") + name + " (looked for";
  for (const std::string& t : tried) message += " " + t;
  fail(message + ")", 127);
}

// PROGRAM as execvp would find it, or "" when it is not there.
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return readable(program) ? program : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0;;) {
    std::size_t end = dirs.find(':', start);
    std::string dir =
        dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (end == std::string::npos) return "";
    start = end + 1;
  }
}

// NAME or FASTPOOL_NAME, any case: the option, or Option::count_ when there is none.
fastpool::Option find_option(std::string name) {
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("FASTPOOL_", 0) != 0) name = "FASTPOOL_" + name;
  for (int i = 0; i < fastpool::kOptionCount; ++i) {
    auto o = static_cast<fastpool::Option>(i);
    if (name == fastpool::option_info(o).env) return o;
  }
  return fastpool::Option::count_;
}

// --markdown: the README's table, which tests/package/launcher.sh compares with it.
int print_options(bool markdown) {
  if (markdown) {
    std::printf("| variable | default | meaning |\n|---|---|---|\n");
    for (int i = 0; i < fastpool::kOptionCount; ++i) {
      const fastpool::OptionInfo& info = fastpool::option_info(static_cast<fastpool::Option>(i));
      std::printf("| `%s` | %lld | %s |\n", info.env, static_cast<long long>(info.default_value),
                  info.meaning);
    }
    return 0;
  }
  std::printf("%-26s %8s %8s  %s\n", "variable", "default", "value", "meaning");
  for (int i = 0; i < fastpool::kOptionCount; ++i) {
    auto o = static_cast<fastpool::Option>(i);
    const fastpool::OptionInfo& info = fastpool::option_info(o);
    const char* set = std::getenv(info.env);
    std::int64_t v = info.default_value;
    bool malformed = set != nullptr && !fastpool::parse_option(o, set, &v);
    std::string value = std::to_string(v) + (malformed ? "*" : "");
    std::printf("%-26s %8lld %8s  %s\n", info.env, static_cast<long long>(info.default_value),
                value.c_str(), info.meaning);
  }
  std::printf(
      "\n(value: what a program started from here would use; * a malformed setting, "
      "ignored)\n");
  return 0;
}

int run(int argc, char** argv) {
  bool secure = false;
  std::vector<std::pair<std::string, std::string>> env;
  int i = 0;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--secure") {
      secure = true;
    } else if (a == "--stats") {
      env.emplace_back("FASTPOOL_SHOW_STATS", "1");
    } else if (a == "--option" || a.rfind("--option=", 0) == 0) {
      std::string spec = a == "--option" ? (i + 1 < argc ? argv[++i] : "") : a.substr(9);
      std::size_t eq = spec.find('=');
      if (eq == std::string::npos) fail("--option wants NAME=VALUE, not '" + spec + "'");
      fastpool::Option o = find_option(spec.substr(0, eq));
      if (o == fastpool::Option::count_)
        fail("unknown option '" + spec.substr(0, eq) + "' (see `fastpool options`)");
      const fastpool::OptionInfo& info = fastpool::option_info(o);
      std::string value = spec.substr(eq + 1);
      std::int64_t parsed;
      if (!fastpool::parse_option(o, value.c_str(), &parsed))
        fail(std::string(info.env) + " wants an integer from 0 to " +
             std::to_string(info.max_value) + ", not '" + value + "'");
      env.emplace_back(info.env, value);
    } else if (a.rfind("-", 0) == 0) {
      fail("unknown flag '" + a + "'\n" + kUsage);
    } else {
      break;
    }
  }
  if (i >= argc) fail(std::string("run: no program given\n") + kUsage);

  if (argv[i][0] == '\0') fail("run: the program name is empty", 127);
  std::string program = resolve(argv[i]);
  if (program.empty())
    fail(
        std::string(argv[i]) + (std::strchr(argv[i], '/') != nullptr ? ": no such file or directory"
                                                                     : ": command not found"),
        127);
  struct stat st {};
  if (stat(program.c_str(), &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) != 0)
    fail(program +
         " is setuid or setgid: the dynamic loader ignores LD_PRELOAD for it, so fastpool "
         "cannot run it");
  std::string lib =
      find_library(secure ? "libfastpool_preload_secure.so" : "libfastpool_preload.so");
  std::string preload = lib;
  if (const char* old = std::getenv("LD_PRELOAD")) {
    // ld.so separates entries by ':' or spaces; a fastpool library already there goes.
    std::string entries = old;
    for (std::size_t start = 0; start < entries.size();) {
      std::size_t end = entries.find_first_of(": ", start);
      if (end == std::string::npos) end = entries.size();
      std::string e = entries.substr(start, end - start);
      std::string base = e.substr(e.rfind('/') + 1);  // npos + 1 == 0: no slash
      if (!e.empty() && base.rfind("libfastpool_preload", 0) != 0) preload += ":" + e;
      start = end + 1;
    }
  }
  setenv("LD_PRELOAD", preload.c_str(), 1);
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  execv(program.c_str(), argv + i);
  fail(program + ": " + std::strerror(errno), 126);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kOwnError;
  }
  std::string command = argv[1];
  if (command == "--version" || command == "version") {
    std::printf("fastpool %s\n", FASTPOOL_VERSION);
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "options") {
    bool markdown = argc == 3 && std::strcmp(argv[2], "--markdown") == 0;
    if (argc > 3 || (argc == 3 && !markdown))
      fail(std::string("options: unknown argument\n") + kUsage);
    return print_options(markdown);
  }
  if (command == "run") return run(argc - 2, argv + 2);
  std::fprintf(stderr, "fastpool: unknown command '%s'\n%s", command.c_str(), kUsage);
  return kOwnError;
}
