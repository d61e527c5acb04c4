import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
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
    VERDICT_INVALID_SIGNATURE_ENCODING: _ClassVar[Verdict]
    VERDICT_R_OUT_OF_RANGE: _ClassVar[Verdict]
    VERDICT_S_OUT_OF_RANGE: _ClassVar[Verdict]
    VERDICT_HIGH_S: _ClassVar[Verdict]
    VERDICT_INVALID_PUBLIC_KEY: _ClassVar[Verdict]

class Policy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLICY_UNSPECIFIED: _ClassVar[Policy]
    POLICY_LIBSODIUM: _ClassVar[Policy]
    POLICY_ZIP215: _ClassVar[Policy]
    POLICY_LIBSECP256K1: _ClassVar[Policy]
    POLICY_LAX: _ClassVar[Policy]
    POLICY_OPENSSL: _ClassVar[Policy]
    POLICY_FABRIC: _ClassVar[Policy]

class SignatureScheme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNATURE_SCHEME_UNSPECIFIED: _ClassVar[SignatureScheme]
    SIGNATURE_SCHEME_ED25519: _ClassVar[SignatureScheme]
    SIGNATURE_SCHEME_ECDSA_SECP256K1: _ClassVar[SignatureScheme]
    SIGNATURE_SCHEME_ECDSA_P256: _ClassVar[SignatureScheme]

class BlockIDFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BLOCK_ID_FLAG_UNKNOWN: _ClassVar[BlockIDFlag]
    BLOCK_ID_FLAG_ABSENT: _ClassVar[BlockIDFlag]
    BLOCK_ID_FLAG_COMMIT: _ClassVar[BlockIDFlag]
    BLOCK_ID_FLAG_NIL: _ClassVar[BlockIDFlag]

class CommitMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMIT_MODE_UNSPECIFIED: _ClassVar[CommitMode]
    COMMIT_MODE_FULL: _ClassVar[CommitMode]
    COMMIT_MODE_LIGHT: _ClassVar[CommitMode]
    COMMIT_MODE_TRUSTING: _ClassVar[CommitMode]

class CommitErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMIT_ERROR_CODE_UNSPECIFIED: _ClassVar[CommitErrorCode]
    COMMIT_ERROR_CODE_WRONG_SET_SIZE: _ClassVar[CommitErrorCode]
    COMMIT_ERROR_CODE_WRONG_HEIGHT: _ClassVar[CommitErrorCode]
    COMMIT_ERROR_CODE_WRONG_BLOCK_ID: _ClassVar[CommitErrorCode]
    COMMIT_ERROR_CODE_ADDRESS_MISMATCH: _ClassVar[CommitErrorCode]
    COMMIT_ERROR_CODE_DUPLICATE_SIGNER: _ClassVar[CommitErrorCode]
    COMMIT_ERROR_CODE_INVALID_SIGNATURE: _ClassVar[CommitErrorCode]
    COMMIT_ERROR_CODE_INSUFFICIENT_POWER: _ClassVar[CommitErrorCode]
    COMMIT_ERROR_CODE_VALIDATORS_HASH_MISMATCH: _ClassVar[CommitErrorCode]

class SignatureStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNATURE_STATUS_UNSPECIFIED: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_ABSENT: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_VERIFIED: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_SKIPPED: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_UNKNOWN_SIGNER: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_NOT_REACHED: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_REJECTED: _ClassVar[SignatureStatus]
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
VERDICT_INVALID_SIGNATURE_ENCODING: Verdict
VERDICT_R_OUT_OF_RANGE: Verdict
VERDICT_S_OUT_OF_RANGE: Verdict
VERDICT_HIGH_S: Verdict
VERDICT_INVALID_PUBLIC_KEY: Verdict
POLICY_UNSPECIFIED: Policy
POLICY_LIBSODIUM: Policy
POLICY_ZIP215: Policy
POLICY_LIBSECP256K1: Policy
POLICY_LAX: Policy
POLICY_OPENSSL: Policy
POLICY_FABRIC: Policy
SIGNATURE_SCHEME_UNSPECIFIED: SignatureScheme
SIGNATURE_SCHEME_ED25519: SignatureScheme
SIGNATURE_SCHEME_ECDSA_SECP256K1: SignatureScheme
SIGNATURE_SCHEME_ECDSA_P256: SignatureScheme
BLOCK_ID_FLAG_UNKNOWN: BlockIDFlag
BLOCK_ID_FLAG_ABSENT: BlockIDFlag
BLOCK_ID_FLAG_COMMIT: BlockIDFlag
BLOCK_ID_FLAG_NIL: BlockIDFlag
COMMIT_MODE_UNSPECIFIED: CommitMode
COMMIT_MODE_FULL: CommitMode
COMMIT_MODE_LIGHT: CommitMode
COMMIT_MODE_TRUSTING: CommitMode
COMMIT_ERROR_CODE_UNSPECIFIED: CommitErrorCode
COMMIT_ERROR_CODE_WRONG_SET_SIZE: CommitErrorCode
COMMIT_ERROR_CODE_WRONG_HEIGHT: CommitErrorCode
COMMIT_ERROR_CODE_WRONG_BLOCK_ID: CommitErrorCode
COMMIT_ERROR_CODE_ADDRESS_MISMATCH: CommitErrorCode
COMMIT_ERROR_CODE_DUPLICATE_SIGNER: CommitErrorCode
COMMIT_ERROR_CODE_INVALID_SIGNATURE: CommitErrorCode
COMMIT_ERROR_CODE_INSUFFICIENT_POWER: CommitErrorCode
COMMIT_ERROR_CODE_VALIDATORS_HASH_MISMATCH: CommitErrorCode
SIGNATURE_STATUS_UNSPECIFIED: SignatureStatus
SIGNATURE_STATUS_ABSENT: SignatureStatus
SIGNATURE_STATUS_VERIFIED: SignatureStatus
SIGNATURE_STATUS_SKIPPED: SignatureStatus
SIGNATURE_STATUS_UNKNOWN_SIGNER: SignatureStatus
SIGNATURE_STATUS_NOT_REACHED: SignatureStatus
SIGNATURE_STATUS_REJECTED: SignatureStatus

class VerifySignaturesRequest(_message.Message):
    __slots__ = ("public_keys", "signatures", "messages", "message_lengths", "policy", "priority", "scheme", "public_key_lengths", "signature_lengths", "hash_messages")
    PUBLIC_KEYS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_LENGTHS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_LENGTHS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_LENGTHS_FIELD_NUMBER: _ClassVar[int]
    HASH_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    public_keys: bytes
    signatures: bytes
    messages: bytes
    message_lengths: _containers.RepeatedScalarFieldContainer[int]
    policy: Policy
    priority: Priority
    scheme: SignatureScheme
    public_key_lengths: _containers.RepeatedScalarFieldContainer[int]
    signature_lengths: _containers.RepeatedScalarFieldContainer[int]
    hash_messages: bool
    def __init__(self, public_keys: _Optional[bytes] = ..., signatures: _Optional[bytes] = ..., messages: _Optional[bytes] = ..., message_lengths: _Optional[_Iterable[int]] = ..., policy: _Optional[_Union[Policy, str]] = ..., priority: _Optional[_Union[Priority, str]] = ..., scheme: _Optional[_Union[SignatureScheme, str]] = ..., public_key_lengths: _Optional[_Iterable[int]] = ..., signature_lengths: _Optional[_Iterable[int]] = ..., hash_messages: _Optional[bool] = ...) -> None: ...

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
    __slots__ = ("max_items", "max_message_bytes", "max_commit_bytes", "max_inflight_bytes")
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_COMMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_INFLIGHT_BYTES_FIELD_NUMBER: _ClassVar[int]
    max_items: int
    max_message_bytes: int
    max_commit_bytes: int
    max_inflight_bytes: int
    def __init__(self, max_items: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., max_commit_bytes: _Optional[int] = ..., max_inflight_bytes: _Optional[int] = ...) -> None: ...

class Scheduling(_message.Message):
    __slots__ = ("max_batch_items", "max_queue_delay_us", "queue_capacity_items", "queue_capacity_bytes", "crossover_batch", "stream_window", "crossover_batch_zip215", "crossover_batch_merkle")
    MAX_BATCH_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_DELAY_US_FIELD_NUMBER: _ClassVar[int]
    QUEUE_CAPACITY_ITEMS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_CAPACITY_BYTES_FIELD_NUMBER: _ClassVar[int]
    CROSSOVER_BATCH_FIELD_NUMBER: _ClassVar[int]
    STREAM_WINDOW_FIELD_NUMBER: _ClassVar[int]
    CROSSOVER_BATCH_ZIP215_FIELD_NUMBER: _ClassVar[int]
    CROSSOVER_BATCH_MERKLE_FIELD_NUMBER: _ClassVar[int]
    max_batch_items: int
    max_queue_delay_us: int
    queue_capacity_items: int
    queue_capacity_bytes: int
    crossover_batch: int
    stream_window: int
    crossover_batch_zip215: int
    crossover_batch_merkle: int
    def __init__(self, max_batch_items: _Optional[int] = ..., max_queue_delay_us: _Optional[int] = ..., queue_capacity_items: _Optional[int] = ..., queue_capacity_bytes: _Optional[int] = ..., crossover_batch: _Optional[int] = ..., stream_window: _Optional[int] = ..., crossover_batch_zip215: _Optional[int] = ..., crossover_batch_merkle: _Optional[int] = ...) -> None: ...

class ValidatorSets(_message.Message):
    __slots__ = ("registered", "max_sets", "key_store_rows", "key_store_free")
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    MAX_SETS_FIELD_NUMBER: _ClassVar[int]
    KEY_STORE_ROWS_FIELD_NUMBER: _ClassVar[int]
    KEY_STORE_FREE_FIELD_NUMBER: _ClassVar[int]
    registered: int
    max_sets: int
    key_store_rows: int
    key_store_free: int
    def __init__(self, registered: _Optional[int] = ..., max_sets: _Optional[int] = ..., key_store_rows: _Optional[int] = ..., key_store_free: _Optional[int] = ...) -> None: ...

class GetInfoResponse(_message.Message):
    __slots__ = ("version", "backend", "devices", "limits", "policies", "scheduling", "validator_sets", "schemes")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_FIELD_NUMBER: _ClassVar[int]
    VALIDATOR_SETS_FIELD_NUMBER: _ClassVar[int]
    SCHEMES_FIELD_NUMBER: _ClassVar[int]
    version: str
    backend: str
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    limits: Limits
    policies: _containers.RepeatedScalarFieldContainer[str]
    scheduling: Scheduling
    validator_sets: ValidatorSets
    schemes: _containers.RepeatedCompositeFieldContainer[SchemeInfo]
    def __init__(self, version: _Optional[str] = ..., backend: _Optional[str] = ..., devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., policies: _Optional[_Iterable[str]] = ..., scheduling: _Optional[_Union[Scheduling, _Mapping]] = ..., validator_sets: _Optional[_Union[ValidatorSets, _Mapping]] = ..., schemes: _Optional[_Iterable[_Union[SchemeInfo, _Mapping]]] = ...) -> None: ...

class SchemeInfo(_message.Message):
    __slots__ = ("name", "rpc", "policies", "on_device")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    ON_DEVICE_FIELD_NUMBER: _ClassVar[int]
    name: str
    rpc: str
    policies: _containers.RepeatedScalarFieldContainer[str]
    on_device: bool
    def __init__(self, name: _Optional[str] = ..., rpc: _Optional[str] = ..., policies: _Optional[_Iterable[str]] = ..., on_device: _Optional[bool] = ...) -> None: ...

class PartSetHeader(_message.Message):
    __slots__ = ("total", "hash")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    total: int
    hash: bytes
    def __init__(self, total: _Optional[int] = ..., hash: _Optional[bytes] = ...) -> None: ...

class BlockID(_message.Message):
    __slots__ = ("hash", "part_set_header")
    HASH_FIELD_NUMBER: _ClassVar[int]
    PART_SET_HEADER_FIELD_NUMBER: _ClassVar[int]
    hash: bytes
    part_set_header: PartSetHeader
    def __init__(self, hash: _Optional[bytes] = ..., part_set_header: _Optional[_Union[PartSetHeader, _Mapping]] = ...) -> None: ...

class CommitSig(_message.Message):
    __slots__ = ("block_id_flag", "validator_address", "timestamp", "signature")
    BLOCK_ID_FLAG_FIELD_NUMBER: _ClassVar[int]
    VALIDATOR_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    block_id_flag: BlockIDFlag
    validator_address: bytes
    timestamp: _timestamp_pb2.Timestamp
    signature: bytes
    def __init__(self, block_id_flag: _Optional[_Union[BlockIDFlag, str]] = ..., validator_address: _Optional[bytes] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signature: _Optional[bytes] = ...) -> None: ...

class Commit(_message.Message):
    __slots__ = ("height", "round", "block_id", "signatures")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    BLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    height: int
    round: int
    block_id: BlockID
    signatures: _containers.RepeatedCompositeFieldContainer[CommitSig]
    def __init__(self, height: _Optional[int] = ..., round: _Optional[int] = ..., block_id: _Optional[_Union[BlockID, _Mapping]] = ..., signatures: _Optional[_Iterable[_Union[CommitSig, _Mapping]]] = ...) -> None: ...

class CommitHeader(_message.Message):
    __slots__ = ("chain_id", "height", "validators_hash")
    CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    VALIDATORS_HASH_FIELD_NUMBER: _ClassVar[int]
    chain_id: str
    height: int
    validators_hash: bytes
    def __init__(self, chain_id: _Optional[str] = ..., height: _Optional[int] = ..., validators_hash: _Optional[bytes] = ...) -> None: ...

class PublicKey(_message.Message):
    __slots__ = ("ed25519",)
    ED25519_FIELD_NUMBER: _ClassVar[int]
    ed25519: bytes
    def __init__(self, ed25519: _Optional[bytes] = ...) -> None: ...

class Validator(_message.Message):
    __slots__ = ("address", "pub_key", "voting_power", "proposer_priority")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PUB_KEY_FIELD_NUMBER: _ClassVar[int]
    VOTING_POWER_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    address: bytes
    pub_key: PublicKey
    voting_power: int
    proposer_priority: int
    def __init__(self, address: _Optional[bytes] = ..., pub_key: _Optional[_Union[PublicKey, _Mapping]] = ..., voting_power: _Optional[int] = ..., proposer_priority: _Optional[int] = ...) -> None: ...

class ValidatorSet(_message.Message):
    __slots__ = ("validators",)
    VALIDATORS_FIELD_NUMBER: _ClassVar[int]
    validators: _containers.RepeatedCompositeFieldContainer[Validator]
    def __init__(self, validators: _Optional[_Iterable[_Union[Validator, _Mapping]]] = ...) -> None: ...

class TrustLevel(_message.Message):
    __slots__ = ("numerator", "denominator")
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    numerator: int
    denominator: int
    def __init__(self, numerator: _Optional[int] = ..., denominator: _Optional[int] = ...) -> None: ...

class VerifyCommitRequest(_message.Message):
    __slots__ = ("commit", "commit_json", "chain_id", "header", "validators", "validators_json", "validator_set_hash", "mode", "trust_level", "height", "block_id", "priority")
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    COMMIT_JSON_FIELD_NUMBER: _ClassVar[int]
    CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    VALIDATORS_FIELD_NUMBER: _ClassVar[int]
    VALIDATORS_JSON_FIELD_NUMBER: _ClassVar[int]
    VALIDATOR_SET_HASH_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TRUST_LEVEL_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    commit: Commit
    commit_json: bytes
    chain_id: str
    header: CommitHeader
    validators: ValidatorSet
    validators_json: bytes
    validator_set_hash: bytes
    mode: CommitMode
    trust_level: TrustLevel
    height: int
    block_id: BlockID
    priority: Priority
    def __init__(self, commit: _Optional[_Union[Commit, _Mapping]] = ..., commit_json: _Optional[bytes] = ..., chain_id: _Optional[str] = ..., header: _Optional[_Union[CommitHeader, _Mapping]] = ..., validators: _Optional[_Union[ValidatorSet, _Mapping]] = ..., validators_json: _Optional[bytes] = ..., validator_set_hash: _Optional[bytes] = ..., mode: _Optional[_Union[CommitMode, str]] = ..., trust_level: _Optional[_Union[TrustLevel, _Mapping]] = ..., height: _Optional[int] = ..., block_id: _Optional[_Union[BlockID, _Mapping]] = ..., priority: _Optional[_Union[Priority, str]] = ...) -> None: ...

class CommitError(_message.Message):
    __slots__ = ("code", "message", "index", "first_index", "got", "needed", "expected", "actual")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FIRST_INDEX_FIELD_NUMBER: _ClassVar[int]
    GOT_FIELD_NUMBER: _ClassVar[int]
    NEEDED_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    code: CommitErrorCode
    message: str
    index: int
    first_index: int
    got: int
    needed: int
    expected: str
    actual: str
    def __init__(self, code: _Optional[_Union[CommitErrorCode, str]] = ..., message: _Optional[str] = ..., index: _Optional[int] = ..., first_index: _Optional[int] = ..., got: _Optional[int] = ..., needed: _Optional[int] = ..., expected: _Optional[str] = ..., actual: _Optional[str] = ...) -> None: ...

class VerifyCommitResponse(_message.Message):
    __slots__ = ("valid", "error", "signed_power", "tallied_power", "total_power", "needed_power", "verdicts", "statuses", "validator_set_hash", "mode", "chain_id", "height", "backend")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SIGNED_POWER_FIELD_NUMBER: _ClassVar[int]
    TALLIED_POWER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_POWER_FIELD_NUMBER: _ClassVar[int]
    NEEDED_POWER_FIELD_NUMBER: _ClassVar[int]
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    VALIDATOR_SET_HASH_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    error: CommitError
    signed_power: int
    tallied_power: int
    total_power: int
    needed_power: int
    verdicts: bytes
    statuses: bytes
    validator_set_hash: bytes
    mode: CommitMode
    chain_id: str
    height: int
    backend: str
    def __init__(self, valid: _Optional[bool] = ..., error: _Optional[_Union[CommitError, _Mapping]] = ..., signed_power: _Optional[int] = ..., tallied_power: _Optional[int] = ..., total_power: _Optional[int] = ..., needed_power: _Optional[int] = ..., verdicts: _Optional[bytes] = ..., statuses: _Optional[bytes] = ..., validator_set_hash: _Optional[bytes] = ..., mode: _Optional[_Union[CommitMode, str]] = ..., chain_id: _Optional[str] = ..., height: _Optional[int] = ..., backend: _Optional[str] = ...) -> None: ...

class RegisterValidatorSetRequest(_message.Message):
    __slots__ = ("validators", "validators_json")
    VALIDATORS_FIELD_NUMBER: _ClassVar[int]
    VALIDATORS_JSON_FIELD_NUMBER: _ClassVar[int]
    validators: ValidatorSet
    validators_json: bytes
    def __init__(self, validators: _Optional[_Union[ValidatorSet, _Mapping]] = ..., validators_json: _Optional[bytes] = ...) -> None: ...

class RegisterValidatorSetResponse(_message.Message):
    __slots__ = ("validator_set_hash", "validators", "total_voting_power", "registered_sets", "max_sets")
    VALIDATOR_SET_HASH_FIELD_NUMBER: _ClassVar[int]
    VALIDATORS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_VOTING_POWER_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_SETS_FIELD_NUMBER: _ClassVar[int]
    MAX_SETS_FIELD_NUMBER: _ClassVar[int]
    validator_set_hash: bytes
    validators: int
    total_voting_power: int
    registered_sets: int
    max_sets: int
    def __init__(self, validator_set_hash: _Optional[bytes] = ..., validators: _Optional[int] = ..., total_voting_power: _Optional[int] = ..., registered_sets: _Optional[int] = ..., max_sets: _Optional[int] = ...) -> None: ...
