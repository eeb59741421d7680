"""The meal tests share the persistent JAX compilation cache, so reruns skip XLA compiles."""

from reprobook.meal.compilation import enable_compilation_cache

enable_compilation_cache()
