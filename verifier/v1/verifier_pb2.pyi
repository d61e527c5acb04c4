from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_BULK: _ClassVar[Priority]
    PRIORITY_CONSENSUS: _ClassVar[Priority]

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    VERDICT_OK: _ClassVar[Verdict]
    VERDICT_MALFORMED_LENGTH: _ClassVar[Verdict]
    VERDICT_NON_CANONICAL_S: _ClassVar[Verdict]
    VERDICT_SMALL_ORDER_R: _ClassVar[Verdict]
    VERDICT_NON_CANONICAL_KEY: _ClassVar[Verdict]
    VERDICT_SMALL_ORDER_KEY: _ClassVar[Verdict]
    VERDICT_UNDECODABLE_KEY: _ClassVar[Verdict]
    VERDICT_EQUATION_FAILED: _ClassVar[Verdict]
    VERDICT_UNDECODABLE_R: _ClassVar[Verdict]
    VERDICT_MALFORMED_PROOF: _ClassVar[Verdict]
    VERDICT_ROOT_MISMATCH: _ClassVar[Verdict]

class Policy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLICY_UNSPECIFIED: _ClassVar[Policy]
    POLICY_LIBSODIUM: _ClassVar[Policy]
    POLICY_ZIP215: _ClassVar[Policy]
PRIORITY_UNSPECIFIED: Priority
PRIORITY_BULK: Priority
PRIORITY_CONSENSUS: Priority
VERDICT_UNSPECIFIED: Verdict
VERDICT_OK: Verdict
VERDICT_MALFORMED_LENGTH: Verdict
VERDICT_NON_CANONICAL_S: Verdict
VERDICT_SMALL_ORDER_R: Verdict
VERDICT_NON_CANONICAL_KEY: Verdict
VERDICT_SMALL_ORDER_KEY: Verdict
VERDICT_UNDECODABLE_KEY: Verdict
VERDICT_EQUATION_FAILED: Verdict
VERDICT_UNDECODABLE_R: Verdict
VERDICT_MALFORMED_PROOF: Verdict
VERDICT_ROOT_MISMATCH: Verdict
POLICY_UNSPECIFIED: Policy
POLICY_LIBSODIUM: Policy
POLICY_ZIP215: Policy

class VerifySignaturesRequest(_message.Message):
    __slots__ = ("public_keys", "signatures", "messages", "message_lengths", "policy", "priority")
    PUBLIC_KEYS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_LENGTHS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    public_keys: bytes
    signatures: bytes
    messages: bytes
    message_lengths: _containers.RepeatedScalarFieldContainer[int]
    policy: Policy
    priority: Priority
    def __init__(self, public_keys: _Optional[bytes] = ..., signatures: _Optional[bytes] = ..., messages: _Optional[bytes] = ..., message_lengths: _Optional[_Iterable[int]] = ..., policy: _Optional[_Union[Policy, str]] = ..., priority: _Optional[_Union[Priority, str]] = ...) -> None: ...

class VerifySignaturesResponse(_message.Message):
    __slots__ = ("verdicts", "valid_count", "invalid_count", "all_valid", "backend")
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    VALID_COUNT_FIELD_NUMBER: _ClassVar[int]
    INVALID_COUNT_FIELD_NUMBER: _ClassVar[int]
    ALL_VALID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    verdicts: bytes
    valid_count: int
    invalid_count: int
    all_valid: bool
    backend: str
    def __init__(self, verdicts: _Optional[bytes] = ..., valid_count: _Optional[int] = ..., invalid_count: _Optional[int] = ..., all_valid: _Optional[bool] = ..., backend: _Optional[str] = ...) -> None: ...

class VerifyMerkleProofsRequest(_message.Message):
    __slots__ = ("leaf_hashes", "leaf_data", "leaf_data_lengths", "leaf_indices", "tree_sizes", "path_hashes", "path_lengths", "roots", "root_indices", "priority")
    LEAF_HASHES_FIELD_NUMBER: _ClassVar[int]
    LEAF_DATA_FIELD_NUMBER: _ClassVar[int]
    LEAF_DATA_LENGTHS_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDICES_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZES_FIELD_NUMBER: _ClassVar[int]
    PATH_HASHES_FIELD_NUMBER: _ClassVar[int]
    PATH_LENGTHS_FIELD_NUMBER: _ClassVar[int]
    ROOTS_FIELD_NUMBER: _ClassVar[int]
    ROOT_INDICES_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    leaf_hashes: bytes
    leaf_data: bytes
    leaf_data_lengths: _containers.RepeatedScalarFieldContainer[int]
    leaf_indices: _containers.RepeatedScalarFieldContainer[int]
    tree_sizes: _containers.RepeatedScalarFieldContainer[int]
    path_hashes: bytes
    path_lengths: _containers.RepeatedScalarFieldContainer[int]
    roots: bytes
    root_indices: _containers.RepeatedScalarFieldContainer[int]
    priority: Priority
    def __init__(self, leaf_hashes: _Optional[bytes] = ..., leaf_data: _Optional[bytes] = ..., leaf_data_lengths: _Optional[_Iterable[int]] = ..., leaf_indices: _Optional[_Iterable[int]] = ..., tree_sizes: _Optional[_Iterable[int]] = ..., path_hashes: _Optional[bytes] = ..., path_lengths: _Optional[_Iterable[int]] = ..., roots: _Optional[bytes] = ..., root_indices: _Optional[_Iterable[int]] = ..., priority: _Optional[_Union[Priority, str]] = ...) -> None: ...

class VerifyMerkleProofsResponse(_message.Message):
    __slots__ = ("verdicts", "valid_count", "invalid_count", "all_valid", "backend")
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    VALID_COUNT_FIELD_NUMBER: _ClassVar[int]
    INVALID_COUNT_FIELD_NUMBER: _ClassVar[int]
    ALL_VALID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    verdicts: bytes
    valid_count: int
    invalid_count: int
    all_valid: bool
    backend: str
    def __init__(self, verdicts: _Optional[bytes] = ..., valid_count: _Optional[int] = ..., invalid_count: _Optional[int] = ..., all_valid: _Optional[bool] = ..., backend: _Optional[str] = ...) -> None: ...

class StreamRequest(_message.Message):
    __slots__ = ("id", "signatures", "merkle_proofs")
    ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    MERKLE_PROOFS_FIELD_NUMBER: _ClassVar[int]
    id: int
    signatures: VerifySignaturesRequest
    merkle_proofs: VerifyMerkleProofsRequest
    def __init__(self, id: _Optional[int] = ..., signatures: _Optional[_Union[VerifySignaturesRequest, _Mapping]] = ..., merkle_proofs: _Optional[_Union[VerifyMerkleProofsRequest, _Mapping]] = ...) -> None: ...

class StreamResponse(_message.Message):
    __slots__ = ("id", "signatures", "merkle_proofs", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    MERKLE_PROOFS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: int
    signatures: VerifySignaturesResponse
    merkle_proofs: VerifyMerkleProofsResponse
    error: StreamError
    def __init__(self, id: _Optional[int] = ..., signatures: _Optional[_Union[VerifySignaturesResponse, _Mapping]] = ..., merkle_proofs: _Optional[_Union[VerifyMerkleProofsResponse, _Mapping]] = ..., error: _Optional[_Union[StreamError, _Mapping]] = ...) -> None: ...

class StreamError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class GetInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Device(_message.Message):
    __slots__ = ("kind", "name", "index", "memory_bytes", "compute_capability", "workers")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    index: int
    memory_bytes: int
    compute_capability: str
    workers: int
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., index: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., compute_capability: _Optional[str] = ..., workers: _Optional[int] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_items", "max_message_bytes")
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    max_items: int
    max_message_bytes: int
    def __init__(self, max_items: _Optional[int] = ..., max_message_bytes: _Optional[int] = ...) -> None: ...

class Scheduling(_message.Message):
    __slots__ = ("max_batch_items", "max_queue_delay_us", "queue_capacity_items", "queue_capacity_bytes", "crossover_batch", "stream_window")
    MAX_BATCH_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_DELAY_US_FIELD_NUMBER: _ClassVar[int]
    QUEUE_CAPACITY_ITEMS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_CAPACITY_BYTES_FIELD_NUMBER: _ClassVar[int]
    CROSSOVER_BATCH_FIELD_NUMBER: _ClassVar[int]
    STREAM_WINDOW_FIELD_NUMBER: _ClassVar[int]
    max_batch_items: int
    max_queue_delay_us: int
    queue_capacity_items: int
    queue_capacity_bytes: int
    crossover_batch: int
    stream_window: int
    def __init__(self, max_batch_items: _Optional[int] = ..., max_queue_delay_us: _Optional[int] = ..., queue_capacity_items: _Optional[int] = ..., queue_capacity_bytes: _Optional[int] = ..., crossover_batch: _Optional[int] = ..., stream_window: _Optional[int] = ...) -> None: ...

class GetInfoResponse(_message.Message):
    __slots__ = ("version", "backend", "devices", "limits", "policies", "scheduling")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_FIELD_NUMBER: _ClassVar[int]
    version: str
    backend: str
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    limits: Limits
    policies: _containers.RepeatedScalarFieldContainer[str]
    scheduling: Scheduling
    def __init__(self, version: _Optional[str] = ..., backend: _Optional[str] = ..., devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., policies: _Optional[_Iterable[str]] = ..., scheduling: _Optional[_Union[Scheduling, _Mapping]] = ...) -> None: ...
