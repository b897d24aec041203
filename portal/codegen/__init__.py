"""Typed payload models for consumers, generated from the schemas the registry publishes (``eventdeck codegen``).

A producer/consumer tool, not part of the deployable runtime: it lives in ``portal/`` (it reads the published form
of each schema from the catalogue renderer, and needs datamodel-code-generator, listed in
``requirements/portal.txt``), so a Lambda bundle — ``requirements/runtime.txt`` plus ``pipeline/`` — never carries
it. The generated models need only pydantic.
"""

from .errors import CodegenError, EmptyModels, GeneratorFailed, UnsafeGeneratedCode, UnsupportedSchema
from .package import CodegenFailed, GeneratedPackage, python_package
from .python import GENERATOR_OPTIONS, GeneratedModule, generate_module

__all__ = ["GENERATOR_OPTIONS", "CodegenError", "CodegenFailed", "EmptyModels", "GeneratedModule",
           "GeneratedPackage", "GeneratorFailed", "UnsafeGeneratedCode", "UnsupportedSchema", "generate_module",
           "python_package"]
