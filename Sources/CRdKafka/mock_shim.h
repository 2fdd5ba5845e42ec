#ifndef CASCADE_CRDKAFKA_MOCK_SHIM_H
#define CASCADE_CRDKAFKA_MOCK_SHIM_H
// librdkafka's mock cluster: fault-injection tests, the benchmark and the demo's embedded
// broker import it (CRdKafka.Mock, through the KafkaMock target); the service never does.
#include "shim.h"
#include <librdkafka/rdkafka_mock.h>
#endif
