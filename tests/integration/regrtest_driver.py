"""Runs CPython regression test modules and prints one line per test: id and outcome.

Unlike `unittest -v`, the output leaves out timings and what tests print themselves
(test_sort prints unseeded random values), so two runs of a correct interpreter match.
Usage: python3 regrtest_driver.py test_list test_dict ...
"""
import sys
import unittest


class Recorder(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def addSuccess(self, test):
        super().addSuccess(test)
        self.outcomes[test.id()] = "ok"

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.outcomes[test.id()] = "FAIL"

    def addError(self, test, err):
        super().addError(test, err)
        self.outcomes[test.id()] = "ERROR"

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcomes[test.id()] = "skipped: " + reason

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.outcomes[test.id()] = "expected failure"

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.outcomes[test.id()] = "UNEXPECTED SUCCESS"


suite = unittest.defaultTestLoader.loadTestsFromNames("test." + m for m in sys.argv[1:])
with open("/dev/null", "w") as sink:
    runner = unittest.TextTestRunner(stream=sink, resultclass=Recorder, buffer=True)
    result = runner.run(suite)
for test_id, outcome in sorted(result.outcomes.items()):
    print(test_id, outcome)
# Tracebacks of failures (if any) after the list, so a failing run explains itself.
for test, trace in result.failures + result.errors:
    print("\n" + "=" * 70 + "\n" + str(test) + "\n" + trace)
print("ran", result.testsRun, "ok" if result.wasSuccessful() else "FAILED")
sys.exit(0 if result.wasSuccessful() else 1)
