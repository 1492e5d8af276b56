"""A Python client of the ATS Trigger Service, written as an internal service
would write one: stubs generated from protos/ with Debian's grpc-tools, calls
to the real ats-server with an API key, and the real partner-sink as the
partner. A MoveCandidate into a stage with the partner's trigger delivers a
signed event, which this test checks as the partner would.

Run by CTest (python_client) with Debian's Python, which has the
python3-grpcio and python3-grpc-tools packages:

  ATS_SERVER_BIN=build/server/ats-server \\
  ATS_PARTNER_SINK_BIN=build/tools/partner-sink/partner-sink \\
  ATS_PROTOS_DIR=protos /usr/bin/python3 tests/clients/python_client_test.py
"""

import base64
import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import grpc

SERVER_BIN = os.environ["ATS_SERVER_BIN"]
SINK_BIN = os.environ["ATS_PARTNER_SINK_BIN"]
PROTOS_DIR = os.environ["ATS_PROTOS_DIR"]

# Bounds on waits, generous for a loaded machine; none is a timing assertion.
START_SECONDS = 30
CALL_SECONDS = 30
DELIVERY_SECONDS = 60


def generate_stubs(out_dir):
    """Generates the ats.v1 messages and stubs into out_dir and imports them."""
    protos = sorted(glob.glob(os.path.join(PROTOS_DIR, "ats", "v1", "*.proto")))
    os.makedirs(out_dir)
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I" + PROTOS_DIR,
         "--python_out=" + out_dir, "--grpc_python_out=" + out_dir] + protos,
        check=True)
    sys.path.insert(0, out_dir)


def free_loopback_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_key(path):
    with open(path) as key_file:
        return key_file.readline().strip()


class PythonClientTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ats-python-client-")
        generate_stubs(os.path.join(cls.dir, "gen"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def setUp(self):
        self.processes = []
        self.sink = self.start_sink()
        port = free_loopback_port()
        server = self.start("ats-server", [
            SERVER_BIN, "--listen=127.0.0.1:%d" % port,
            "--db=" + os.path.join(self.dir, "ats.db"), "--log_level=warn",
            "--shutdown_grace=2s", "--retry_schedule=0s,50ms,100ms",
            "--allowed_destination_networks=127.0.0.0/8,::1/128"])
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % port)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=START_SECONDS)
        except grpc.FutureTimeoutError:
            self.fail("ats-server did not start: " + self.log_of(server))
        self.operator_key = read_key(os.path.join(self.dir, "ats.operator.key"))
        self.admin_key = read_key(os.path.join(self.dir, "ats.admin.key"))

    def tearDown(self):
        self.channel.close()
        for process, log in reversed(self.processes):
            process.terminate()
            process.wait(timeout=START_SECONDS)
            log.close()

    def start(self, name, argv):
        """Starts argv with its output in a log file of the test's own."""
        log = open(os.path.join(self.dir, name + ".log"), "w+")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((process, log))
        return log

    @staticmethod
    def log_of(log):
        log.seek(0)
        return log.read()

    def start_sink(self):
        """Starts partner-sink on a free port; returns its base URL."""
        log = self.start("partner-sink", [SINK_BIN, "--listen", "127.0.0.1:0"])
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            match = re.search(r"listening on (127\.0\.0\.1:\d+)",
                              self.log_of(log))
            if match:
                return "http://" + match.group(1)
            time.sleep(0.01)
        self.fail("partner-sink did not start: " + self.log_of(log))

    def sink_call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(self.sink + path, data=data,
                                    timeout=CALL_SECONDS) as response:
            return json.loads(response.read())

    @staticmethod
    def auth(key):
        return (("authorization", "Bearer " + key),)

    def test_move_candidate_delivers_a_signed_event_to_the_partner(self):
        from ats.v1 import account_service_pb2, account_service_pb2_grpc
        from ats.v1 import access_pb2
        from ats.v1 import event_pb2
        from ats.v1 import integration_service_pb2 as integration_pb2
        from ats.v1 import integration_service_pb2_grpc as integration_grpc
        from ats.v1 import job_service_pb2, job_service_pb2_grpc
        from ats.v1 import partner_event_pb2, pipeline_pb2
        from google.protobuf import json_format

        accounts = account_service_pb2_grpc.AccountServiceStub(self.channel)
        integrations = integration_grpc.IntegrationServiceStub(self.channel)
        jobs = job_service_pb2_grpc.JobServiceStub(self.channel)

        # The operator lists the partner; the account's admin activates it
        # and gives the importer service a recruiter key.
        partner = integrations.CreatePartner(
            integration_pb2.CreatePartnerRequest(partner=integration_pb2.Partner(
                display_name="Assessly",
                category=integration_pb2.PARTNER_CATEGORY_ASSESSMENT,
                webhook_uri=self.sink + "/webhooks",
                trigger_options=[integration_pb2.TriggerOption(
                    key="test_package", display_name="Test package",
                    required=True, allowed_values=["java-senior"])],
                candidate_fields=[partner_event_pb2.CANDIDATE_FIELD_GIVEN_NAME])),
            metadata=self.auth(self.operator_key), timeout=CALL_SECONDS)
        activated = integrations.ActivateIntegration(
            integration_pb2.ActivateIntegrationRequest(partner=partner.name),
            metadata=self.auth(self.admin_key), timeout=CALL_SECONDS)
        self.sink_call("/secrets", {"secret": activated.signing_secret})
        recruiter = accounts.CreateApiKey(
            account_service_pb2.CreateApiKeyRequest(
                api_key=account_service_pb2.ApiKey(
                    display_name="importer", role=access_pb2.ROLE_RECRUITER)),
            metadata=self.auth(self.admin_key), timeout=CALL_SECONDS).secret
        as_recruiter = self.auth(recruiter)

        # A job whose Assessment stage sends the partner's test, and a
        # candidate in it.
        job = jobs.CreateJob(
            job_service_pb2.CreateJobRequest(
                skip_template=True,
                job=job_service_pb2.Job(
                    title="Backend engineer", state=job_service_pb2.JOB_STATE_OPEN,
                    stages=[pipeline_pb2.Stage(display_name="Inbox"),
                            pipeline_pb2.Stage(display_name="Assessment")])),
            metadata=as_recruiter, timeout=CALL_SECONDS)
        assessment = job.stages[1].name
        jobs.CreateTrigger(
            job_service_pb2.CreateTriggerRequest(
                parent=assessment,
                trigger=pipeline_pb2.Trigger(
                    integration_event=pipeline_pb2.IntegrationEventAction(
                        integration=activated.integration.name,
                        option_values={"test_package": "java-senior"}))),
            metadata=as_recruiter, timeout=CALL_SECONDS)
        candidate = jobs.CreateCandidate(
            job_service_pb2.CreateCandidateRequest(
                candidate=job_service_pb2.Candidate(
                    given_name="Ada", family_name="Lovelace",
                    email="ada@example.com")),
            metadata=as_recruiter, timeout=CALL_SECONDS)
        application = jobs.AddCandidateToJob(
            job_service_pb2.AddCandidateToJobRequest(
                job=job.name, candidate=candidate.name),
            metadata=as_recruiter, timeout=CALL_SECONDS).application

        move = job_service_pb2.MoveCandidateRequest(
            name=application.name, stage=assessment, request_id="move-ada-1")
        moved = jobs.MoveCandidate(move, metadata=as_recruiter,
                                   timeout=CALL_SECONDS)
        self.assertTrue(moved.moved)
        self.assertEqual(moved.application.stage, assessment)
        self.assertEqual(len(moved.events), 1)
        event = moved.events[0]
        self.assertEqual(event.integration, activated.integration.name)
        # A retry with the same request_id is answered, not done again.
        self.assertEqual(jobs.MoveCandidate(move, metadata=as_recruiter,
                                            timeout=CALL_SECONDS), moved)

        # Bad input is INVALID_ARGUMENT, as for any gRPC client.
        with self.assertRaises(grpc.RpcError) as bad:
            jobs.MoveCandidate(
                job_service_pb2.MoveCandidateRequest(name="nonsense",
                                                     stage=assessment),
                metadata=as_recruiter, timeout=CALL_SECONDS)
        self.assertEqual(bad.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

        # The event goes out; the partner's answer makes it SENT.
        deadline = time.monotonic() + DELIVERY_SECONDS
        while time.monotonic() < deadline:
            event = integrations.GetEvent(
                integration_pb2.GetEventRequest(name=event.name),
                metadata=as_recruiter, timeout=CALL_SECONDS)
            if event.state == event_pb2.EVENT_STATE_SENT:
                break
            time.sleep(0.05)
        self.assertEqual(event_pb2.EventState.Name(event.state),
                         "EVENT_STATE_SENT", self.log_of(self.processes[1][1]))

        # What the partner received: the event, signed with the secret it
        # was given (Standard Webhooks), as the contract's PartnerEvent.
        received = self.sink_call("/received")
        self.assertEqual(received["accepted"], 1, received)
        self.assertEqual(received["rejected"], 0, received)
        delivery = self.sink_call("/received/" + received["events"][0]["id"])
        headers = {name.lower(): value
                   for name, value in delivery["headers"].items()}
        key = base64.b64decode(activated.signing_secret.split("_", 1)[1])
        signed = "%s.%s.%s" % (headers["webhook-id"],
                               headers["webhook-timestamp"], delivery["body"])
        expected = base64.b64encode(
            hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
        self.assertIn("v1," + expected, headers["webhook-signature"].split())
        body = json_format.Parse(delivery["body"],
                                 partner_event_pb2.PartnerEvent())
        self.assertEqual(body.candidate.given_name, "Ada")
        self.assertEqual(body.option_values["test_package"], "java-senior")
        self.assertEqual(body.stage_trigger.stage, assessment)


if __name__ == "__main__":
    unittest.main()
