"""TFX's own configuration protos (ExampleGen, Trainer, Pusher, ...), compiled from the
``.proto`` files here by ``scripts/gen_protos.sh``.

The messages keep TFX's proto packages, names and field numbers, so their binary, JSON and
text forms are the ones TFX writes. Protos that live in TFDV, TFMA, tfx-bsl or
tensorflow_metadata are used from those packages, never redefined here. Importing this
package loads only protobuf.
"""
