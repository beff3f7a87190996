"""Models of mappings: the Source→Interface mapping rules and the conversation around them."""

from .mapping import AttributeMapping, EntityMapping, EntitySpecHash, MappingComment

__all__ = ["AttributeMapping", "EntityMapping", "EntitySpecHash", "MappingComment"]
