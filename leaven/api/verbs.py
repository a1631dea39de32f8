from leaven.core.verbs import register

register({})
