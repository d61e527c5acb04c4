"""Server reflection under both names gRPC tools ask for: grpc.reflection.v1 (current tools ask it first)
and grpc.reflection.v1alpha; each lists the services and describes them, v1 itself included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha_pb2

from tests.support.harness import RunningServer, running_server

_SERVICES = {
    "verifier.v1.Verifier",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
}

# grpc.reflection.v1's messages as grpc/grpc src/proto/grpc/reflection/v1/reflection.proto declares them
# (commit a389e6fbcd9440ce6eb69846882bc602ade961f6): message -> {field: (number, type or message)}.
_V1_FIELDS = {
    "ServerReflectionRequest": {
        "host": (1, "string"),
        "file_by_filename": (3, "string"),
        "file_containing_symbol": (4, "string"),
        "file_containing_extension": (5, "ExtensionRequest"),
        "all_extension_numbers_of_type": (6, "string"),
        "list_services": (7, "string"),
    },
    "ExtensionRequest": {"containing_type": (1, "string"), "extension_number": (2, "int32")},
    "ServerReflectionResponse": {
        "valid_host": (1, "string"),
        "original_request": (2, "ServerReflectionRequest"),
        "file_descriptor_response": (4, "FileDescriptorResponse"),
        "all_extension_numbers_response": (5, "ExtensionNumberResponse"),
        "list_services_response": (6, "ListServiceResponse"),
        "error_response": (7, "ErrorResponse"),
    },
    "FileDescriptorResponse": {"file_descriptor_proto": (1, "bytes")},
    "ExtensionNumberResponse": {"base_type_name": (1, "string"), "extension_number": (2, "int32")},
    "ListServiceResponse": {"service": (1, "ServiceResponse")},
    "ServiceResponse": {"name": (1, "string")},
    "ErrorResponse": {"error_code": (1, "int32"), "error_message": (2, "string")},
}
_TYPES = {
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: "string",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: "int32",
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: "bytes",
}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as s:
        yield s


def _v1(name: str) -> Any:
    """A grpc.reflection.v1 message class, from the descriptor the server added to the default pool."""
    return message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(f"grpc.reflection.v1.{name}")
    )


def _ask(
    server: RunningServer, version: str, requests: list[Any], request_type: Any, response_type: Any
) -> list[Any]:
    with grpc.insecure_channel(server.target) as channel:
        info = channel.stream_stream(
            f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
            request_serializer=request_type.SerializeToString,
            response_deserializer=response_type.FromString,
        )
        return list(info(iter(requests), timeout=10))


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_each_version_lists_the_services_and_describes_them(server: RunningServer, version: str) -> None:
    if version == "v1":
        request, response = _v1("ServerReflectionRequest"), _v1("ServerReflectionResponse")
    else:
        request, response = v1alpha_pb2.ServerReflectionRequest, v1alpha_pb2.ServerReflectionResponse
    symbols = ("verifier.v1.Verifier", "grpc.reflection.v1.ServerReflection")
    answers = _ask(
        server,
        version,
        [request(list_services="")] + [request(file_containing_symbol=s) for s in symbols],
        request,
        response,
    )
    assert {s.name for s in answers[0].list_services_response.service} == _SERVICES
    for answer, symbol in zip(answers[1:], symbols, strict=True):
        assert answer.WhichOneof("message_response") == "file_descriptor_response", answer
        files = [
            descriptor_pb2.FileDescriptorProto.FromString(b)
            for b in answer.file_descriptor_response.file_descriptor_proto
        ]
        package, service = symbol.rsplit(".", 1)
        assert any(f.package == package and service in [s.name for s in f.service] for f in files), files


def test_v1_messages_are_grpcs_v1_field_for_field() -> None:
    """The v1 the server describes is grpc's v1 (names, numbers, types), which is why v1alpha's servicer
    answers it on the wire."""
    from verifier.server import _add_v1_reflection_file

    _add_v1_reflection_file()  # what each server does (once per process)
    proto = descriptor_pb2.FileDescriptorProto()
    descriptor_pool.Default().FindFileContainingSymbol("grpc.reflection.v1.ServerReflection").CopyToProto(
        proto
    )
    assert proto.package == "grpc.reflection.v1"
    got = {
        m.name: {
            f.name: (f.number, _TYPES.get(f.type) or f.type_name.removeprefix(".grpc.reflection.v1."))
            for f in m.field
        }
        for m in proto.message_type
    }
    assert got == _V1_FIELDS
    (method,) = proto.service[0].method
    assert (proto.service[0].name, method.name, method.client_streaming, method.server_streaming) == (
        "ServerReflection",
        "ServerReflectionInfo",
        True,
        True,
    )
    assert method.input_type == ".grpc.reflection.v1.ServerReflectionRequest"
